/**
 * The firebreak API in its own process, as built by api/app.ts buildApp, listening on BENCH_API_PORT: the shipped
 * runbooks plus the benchmarks' own, SNS signatures verified against the bench's certificate (BENCH_SNS_CERT, served
 * for any certificate URL: the bench signs with a key it generated, as the tests do), and rate limits raised out of
 * the way (the benches measure the engine, not the limiter). Answers `stats` with its CPU time and RSS.
 */
import { Client, Connection } from '@temporalio/client';
import { buildApp } from '../api/app';
import { SnsSignatureVerifier } from '../alerts/sns';
import { runbooks } from '../runbooks';
import { RunbookRegistry } from '../runbooks/registry';
import { BENCH_SECRET, BENCH_TOPIC } from './bench';
import { BENCH_RUNBOOKS } from './runbooks';

async function main(): Promise<void> {
  const connection = await Connection.connect({ address: process.env.BENCH_TEMPORAL_ADDRESS!, connectTimeout: '60s' });
  const client = new Client({ connection });
  const cert = process.env.BENCH_SNS_CERT!;
  const big = 1_000_000_000;
  const app = await buildApp({
    client,
    registry: new RunbookRegistry([...runbooks, ...BENCH_RUNBOOKS]),
    taskQueue: process.env.BENCH_TASK_QUEUE!,
    publicUrl: 'http://firebreak.bench',
    auth: { mode: 'none' },
    logger: false,
    notifyTopics: { default: BENCH_TOPIC },
    alerts: {
      snsTopics: ['arn:aws:sns:*:*:*'],
      verifier: new SnsSignatureVerifier({ fetchCertificate: async () => cert }),
      webhookSecret: BENCH_SECRET,
      webhookHeader: 'x-firebreak-secret',
      confirmSubscription: async () => undefined,
    },
    rateLimit: { windowMs: 60_000, perPrincipal: big, perAddress: big, alertsPerAddress: big },
  });
  await app.listen({ host: '127.0.0.1', port: Number(process.env.BENCH_API_PORT) });
  process.on('message', (msg: unknown) => {
    if (msg === 'stats') process.send!({ stats: { cpu: process.cpuUsage(), rss: process.memoryUsage().rss } });
    else if (msg === 'stop') void app.close().then(() => connection.close().then(() => process.exit(0)));
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: true });
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
