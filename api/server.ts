/**
 * `npm run api`: listens, and closes gracefully on SIGINT/SIGTERM (in-flight requests finish first).
 */
import { ConfirmSubscriptionCommand, SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { Client, Connection } from '@temporalio/client';
import { SnsSignatureVerifier } from '../alerts/sns';
import { parseArn } from '../alerts/validate';
import { loadConfig } from '../config/env';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { setupTracing } from '../telemetry/tracing';
import { ownTargetOf } from '../activities/resource';
import { AwsHttpHandler } from '../activities/aws-http';
import { runbooks } from '../runbooks';
import { RunbookRegistry } from '../runbooks/registry';
import { buildApp } from './app';
import { authOptions } from './auth-options';

async function main(): Promise<void> {
  const config = loadConfig(process.env, { api: true });
  const auth = authOptions(config);
  const registry = new RunbookRegistry(runbooks);
  // Lazy: the API starts (and /readyz answers 503) even while Temporal is still coming up.
  const connection = Connection.lazy(temporalConnectionOptions(config));
  const tracing = setupTracing(config, 'firebreak-api');
  const client = new Client({
    connection,
    namespace: config.temporalNamespace,
    ...(tracing ? { interceptors: tracing.client } : {}),
  });
  const app = await buildApp({
    client,
    registry,
    taskQueue: config.taskQueue,
    publicUrl: config.publicUrl,
    auth,
    logger: { level: config.logLevel },
    processMetrics: true,
    trustProxy: config.trustProxy,
    // As the worker keys resource records: its account (the same default credentials) and region.
    // With the workers' deadlines (activities/aws-http.ts): a start waiting on an STS endpoint that never answers fails.
    ownTarget: ownTargetOf(
      new STSClient({ region: config.awsRegion, endpoint: config.awsEndpoint, requestHandler: new AwsHttpHandler() }),
      config.awsRegion,
    ),
    rateLimit: {
      windowMs: config.rateLimit.windowSec * 1000,
      perPrincipal: config.rateLimit.perPrincipal,
      perAddress: config.rateLimit.perAddress,
      alertsPerAddress: config.rateLimit.alertsPerAddress,
    },
    notifyTopics: config.notifyTopics,
    incidentReopenGraceMs: config.incidentReopenGraceMs,
    metricsCacheMs: config.metricsCacheMs,
    alerts: {
      snsTopics: config.snsTopics,
      verifier: config.snsVerify
        ? new SnsSignatureVerifier({
            maxAgeMs: config.snsMaxAgeSec * 1000,
            clockSkewMs: config.snsClockSkewSec * 1000,
          })
        : null,
      webhookSecret: config.webhookSecret,
      webhookHeader: config.webhookHeader,
      // Confirm in the topic's own region, with the SDK's default credentials (or the emulator's endpoint).
      confirmSubscription: async (topicArn, token) => {
        const region = parseArn(topicArn)?.region || config.awsRegion;
        const sns = new SNSClient({ region, endpoint: config.awsEndpoint, requestHandler: new AwsHttpHandler() });
        try {
          await sns.send(new ConfirmSubscriptionCommand({ TopicArn: topicArn, Token: token }));
        } finally {
          sns.destroy();
        }
      },
    },
  });

  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'closing');
    await app.close();
    await connection.close();
    await tracing?.shutdown();
    process.exit(0);
  };
  process.on('SIGINT', (s) => void close(s));
  process.on('SIGTERM', (s) => void close(s));

  await app.listen({ host: config.apiHost, port: config.apiPort });
}

main().catch((err) => {
  console.error('firebreak api failed:', err);
  process.exit(1);
});
