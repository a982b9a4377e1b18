/**
 * Builds the Temporal worker: the bundled workflows and the instrumented activities with injected AWS clients.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import path from 'node:path';
import { createActivities } from '../activities';
import { createArchiveActivities } from '../activities/archive';
import { createIncidentActivities } from '../activities/incident';
import { createResourceActivities } from '../activities/resource';
import { createClientFactory, type ClientSource } from '../activities/clients';
import type { ActionActivities } from '../activities/schemas';
import { DEFAULT_EVIDENCE_DIR, type Config } from '../config/env';
import { temporalConnectionOptions } from '../config/temporal-connection';
import type { Tracing } from '../telemetry/tracing';
import { instrumentActivities } from './activities';
import type { WorkerMetrics } from './metrics';

export interface WorkerDeps {
  config: Pick<Config, 'temporalAddress' | 'temporalNamespace' | 'taskQueue' | 'awsRegion' | 'awsEndpoint'> &
    Partial<
      Pick<
        Config,
        | 'workerShutdownGraceMs'
        | 'targetAccounts'
        | 'assumeRoleName'
        | 'assumeRoleExternalId'
        | 'temporalTls'
        | 'temporalApiKey'
        | 'evidenceDir'
      >
    >;
  connection?: NativeConnection;
  /** Prebuilt workflow bundle (tests build it once); else the workflows are bundled now. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Defaults to the real activities on clients from the config. */
  activities?: ActionActivities;
  /** Fixed clients (every step in one account and region), or a factory; default: a factory from the config. */
  clients?: ClientSource;
  /** Times each action attempt (worker/metrics.ts); unset: not timed. */
  metrics?: WorkerMetrics;
  /** OpenTelemetry interceptors and sink (telemetry/tracing.ts); unset: no tracing. */
  tracing?: Tracing['worker'];
}

export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  const { config } = deps;
  const connection = deps.connection ?? (await NativeConnection.connect(temporalConnectionOptions(config)));
  const activities =
    deps.activities ??
    createActivities(
      deps.clients ??
        createClientFactory({
          region: config.awsRegion,
          endpoint: config.awsEndpoint,
          targetAccounts: config.targetAccounts,
          assumeRoleName: config.assumeRoleName,
          assumeRoleExternalId: config.assumeRoleExternalId,
        }),
    );
  return Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    ...(deps.workflowBundle
      ? { workflowBundle: deps.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    // Catalogue actions report their attempt (instrumented, and timed for the worker's metrics); the resource lock's
    // request, the incident's reading of its runbook's end and the evidence archive are the engine's own.
    activities: {
      ...instrumentActivities(activities, deps.metrics),
      ...createResourceActivities(config.taskQueue),
      ...createIncidentActivities(),
      ...createArchiveActivities(config.evidenceDir ?? path.resolve(DEFAULT_EVIDENCE_DIR)),
    },
    ...(deps.tracing ?? {}),
    // On SIGTERM (a deploy) running steps may finish first; after the grace time they are cancelled as "worker
    // shutdown", which the activities tell apart from a cancellation by the workflow (activities/clients.ts), and
    // Temporal retries them elsewhere. Unset (tests): the SDK's default, 0.
    ...(config.workerShutdownGraceMs !== undefined ? { shutdownGraceTime: config.workerShutdownGraceMs } : {}),
  });
}
