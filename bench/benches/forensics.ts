/**
 * Bench 6, forensics: building the timeline (forensics/timeline.ts buildTimeline) of an execution whose history has
 * over 1,000 events (the bench-long runbook, run on the fake AWS), builder alone and through the API's timeline route;
 * and the replay rate of the whole committed corpus (test/histories/**) against today's workflow bundle.
 */
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { corpusReleases, readCorpusRelease } from '../../forensics/corpus';
import { fetchRunChain } from '../../forensics/history';
import { replayHistories, replayProcesses } from '../../forensics/replay';
import { buildTimeline } from '../../forensics/timeline';
import { newInstanceId } from '../alerts';
import { BENCH_TOPIC, type Bench } from '../bench';
import { now } from '../fake-aws';
import { figure, percentiles } from '../report';

const CORPUS = path.join(__dirname, '..', '..', 'test', 'histories');

export const forensics: Bench = {
  name: 'forensics',
  summary: 'timeline of a 1,000-event history; replay rate over the corpus test/histories/**',
  async run(stack, { quick }) {
    const res = await fetch(`${stack.apiUrl}/v1/runbooks/bench-long/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ params: { instanceId: newInstanceId(), notifyTopicArn: BENCH_TOPIC } }),
    });
    const { executionId } = (await res.json()) as { executionId: string };
    await stack.client.workflow.getHandle(executionId).result();
    const runs = await fetchRunChain(stack.client, executionId);
    const events = runs.reduce((n, r) => n + r.history.events.length, 0);

    const repeats = quick ? 10 : 50;
    const build: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t = now();
      buildTimeline(runs);
      build.push(now() - t);
    }
    const viaApi: number[] = [];
    for (let i = 0; i < Math.ceil(repeats / 2); i++) {
      const t = now();
      const r = await fetch(`${stack.apiUrl}/v1/executions/${encodeURIComponent(executionId)}/timeline`);
      await r.text();
      if (r.status !== 200) throw new Error(`timeline route answered ${r.status}`);
      viaApi.push(now() - t);
    }

    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
    const histories = corpusReleases(CORPUS).flatMap((v) => readCorpusRelease(CORPUS, v).histories);
    const passes = quick ? 1 : 5;
    const bundle = { workflowBundle: { codePath: stack.firebreakBundle } };
    // One call over every pass, as a CI job replays a corpus: the replayer splits it between processes by default
    // (forensics/replay.ts PARALLEL_FROM), start-up included in the time.
    const batch = Array.from({ length: passes }, () => histories).flat();
    const t0 = now();
    const verdicts = await replayHistories(batch, bundle);
    const divergent = verdicts.filter((v) => !v.identical).length;
    const replaySeconds = (now() - t0) / 1000;
    const processes = replayProcesses(batch.length);
    const rate = Math.round(((histories.length * passes) / replaySeconds) * 10) / 10;

    const pb = percentiles(build);
    const pa = percentiles(viaApi);
    return {
      figures: [
        figure({
          name: `timeline build, ${events} events, p50`,
          value: pb.p50,
          unit: 'ms',
          target: '<= 200 ms',
          met: pb.p50 <= 200 && events >= 1000,
        }),
        figure({
          name: 'timeline build, max (first, cold)',
          value: pb.max,
          unit: 'ms',
          target: '<= 200 ms',
          met: pb.max <= 200,
        }),
        figure({
          name: 'timeline via API (fetch + build), p50',
          value: pa.p50,
          unit: 'ms',
          target: '<= 200 ms',
          met: pa.p50 <= 200,
        }),
        figure({
          name: `replay rate (${histories.length} histories x ${passes}, ${processes} processes)`,
          value: rate,
          unit: 'histories/s',
          target: '>= 50/s',
          met: rate >= 50 && divergent === 0,
        }),
      ],
      details: {
        executionId,
        runs: runs.length,
        events,
        build: pb,
        viaApi: pa,
        corpus: histories.length,
        passes,
        processes,
        divergent,
      },
    };
  },
};
