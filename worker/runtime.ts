/**
 * The Temporal SDK runtime's options for the worker process: its logs through pino (JSON, with execution IDs), and
 * its own Prometheus endpoint when FIREBREAK_TEMPORAL_METRICS_ADDRESS is set (off by default, and in tests).
 */
import type { Logger } from 'pino';
import type { RuntimeOptions } from '@temporalio/worker';
import type { Config } from '../config/env';
import { temporalLogger } from '../telemetry/logger';

export function runtimeOptions(
  config: Pick<Config, 'logLevel' | 'temporalMetricsAddress'>,
  log: Logger,
): RuntimeOptions {
  return {
    // The SDK's runtime handles SIGINT/SIGTERM: the worker stops polling, finishes what it runs, and run() resolves.
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    logger: temporalLogger(log, config.logLevel),
    ...(config.temporalMetricsAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: config.temporalMetricsAddress } } } }
      : {}),
  };
}
