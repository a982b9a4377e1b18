/**
 * JSON logs (pino) for the worker and the scripts, and the Temporal SDK's own logs through the same logger: the SDK
 * attaches workflowId, runId, activityId and the like to every workflow and activity log line, so each line says
 * which execution it belongs to (execution IDs are workflow IDs). The API logs through Fastify's pino, with request IDs.
 */
import pino, { type Logger } from 'pino';
import { DefaultLogger, type LogLevel as SdkLogLevel } from '@temporalio/worker';
import type { Config } from '../config/env';

export function createLogger(name: string, level: Config['logLevel'] = 'info'): Logger {
  return pino({ name, level });
}

const SDK_LEVEL: Record<Config['logLevel'], SdkLogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};

/** The SDK's logger writing through `log`; its level follows LOG_LEVEL (pino drops what is below its own). */
export function temporalLogger(log: Logger, level: Config['logLevel']): DefaultLogger {
  return new DefaultLogger(SDK_LEVEL[level], ({ level: l, message, meta }) => {
    const fields = { ...(meta ?? {}) };
    switch (l) {
      case 'TRACE':
        return log.trace(fields, message);
      case 'DEBUG':
        return log.debug(fields, message);
      case 'INFO':
        return log.info(fields, message);
      case 'WARN':
        return log.warn(fields, message);
      case 'ERROR':
        return log.error(fields, message);
      default: {
        const unreachable: never = l;
        return log.info(fields, String(unreachable));
      }
    }
  });
}
