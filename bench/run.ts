/**
 * `npm run bench [-- [names...] [--quick]]`: starts a fresh stack (bench/stack.ts), runs the named
 * benches (all by default, in the order) in one sitting, prints each one's table and writes its JSON to
 * bench/results/. Exits non-zero only when a bench could not run; missed targets are reported, not failed.
 */
import { alertLatency } from './benches/alert-latency';
import { burst } from './benches/burst';
import { forensics } from './benches/forensics';
import { ingest } from './benches/ingest';
import { interpreter } from './benches/interpreter';
import { openIncidents } from './benches/open-incidents';
import { throughput } from './benches/throughput';
import type { Bench } from './bench';
import { commit, machine, printTable, writeResult, type BenchResult } from './report';
import { startStack } from './stack';

export const BENCHES: Bench[] = [alertLatency, burst, throughput, interpreter, openIncidents, ingest, forensics];

export interface RunOptions {
  names: string[];
  quick: boolean;
  aws: 'fake' | 'moto';
  resultsDir?: string;
  /** Overrides the benches' sizes (see BenchOptions.size). */
  size?: number;
  /** See StackOptions: reuse a running dev server and a prebuilt bundle (the smoke test). */
  temporalAddress?: string;
  firebreakBundle?: string;
}

export function parseArgs(argv: string[]): RunOptions {
  const names: string[] = [];
  let quick = false;
  let aws: 'fake' | 'moto' = 'fake';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--aws') {
      const v = argv[++i];
      if (v !== 'fake' && v !== 'moto') throw new Error(`--aws ${v}: fake (default) or moto`);
      aws = v;
    } else if (a === '--help' || a === '-h') {
      console.log('npm run bench -- [names...] [--quick] [--aws fake|moto]\n');
      for (const b of BENCHES) console.log(`  ${b.name.padEnd(16)} ${b.summary}${b.moto ? ' (also --aws moto)' : ''}`);
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else {
      if (!BENCHES.some((b) => b.name === a))
        throw new Error(`unknown bench ${a}; one of ${BENCHES.map((b) => b.name).join(', ')}`);
      names.push(a);
    }
  }
  if (aws === 'moto') {
    // Benches that make up instance IDs on the fly (or time moto's throughput rather than the engine's) stay on the fake.
    const chosen = names.length ? BENCHES.filter((b) => names.includes(b.name)) : BENCHES.filter((b) => b.moto);
    const fakeOnly = chosen.filter((b) => !b.moto).map((b) => b.name);
    if (fakeOnly.length)
      throw new Error(
        `--aws moto: ${fakeOnly.join(', ')} run against the fake only; moto runs ${BENCHES.filter((b) => b.moto)
          .map((b) => b.name)
          .join(', ')}`,
      );
    if (!names.length) names.push(...chosen.map((b) => b.name));
  }
  return { names, quick, aws };
}

export async function runBenches(opts: RunOptions): Promise<{ results: BenchResult[]; files: string[] }> {
  const chosen = opts.names.length ? BENCHES.filter((b) => opts.names.includes(b.name)) : BENCHES;
  const stack = await startStack({
    aws: opts.aws,
    temporalAddress: opts.temporalAddress,
    firebreakBundle: opts.firebreakBundle,
  });
  // Interrupted: the stack's processes (the Temporal server above all) must not outlive the run.
  const onSignal = () => void stack.stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const results: BenchResult[] = [];
  const files: string[] = [];
  try {
    for (const bench of chosen) {
      const started = Date.now();
      const date = new Date().toISOString();
      // One bench that breaks does not stop the others: its error is its result.
      const { figures, details, failed } = await bench
        .run(stack, { quick: opts.quick, size: opts.size })
        .catch((err: Error) => ({ figures: [], details: {}, failed: err.stack ?? String(err) }));
      const unknown = Object.fromEntries(stack.fake.unknown);
      const upstreamErrors = Object.fromEntries(stack.fake.upstreamErrors);
      stack.fake.upstreamErrors.clear();
      const result: BenchResult = {
        bench: bench.name,
        quick: opts.quick,
        aws: stack.aws,
        date,
        commit: commit(),
        machine: machine(),
        durationMs: Date.now() - started,
        figures,
        ...(failed ? { failed } : {}),
        details: {
          ...details,
          ...(Object.keys(unknown).length ? { fakeAwsUnknownCalls: unknown } : {}),
          // moto's refusals (not 2xx) by status and call: some are the catalogue's own look-ups of what is not there.
          ...(Object.keys(upstreamErrors).length ? { motoErrors: upstreamErrors } : {}),
        },
        command: `npm run bench -- ${bench.name}${opts.quick ? ' --quick' : ''}${opts.aws === 'moto' ? ' --aws moto' : ''}`,
      };
      printTable(result);
      if (Object.keys(unknown).length) console.log('fake AWS was asked for calls it does not know:', unknown);
      const file = writeResult(result, opts.resultsDir);
      console.log(`-> ${file}`);
      results.push(result);
      files.push(file);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stack.stop();
  }
  return { results, files };
}

if (require.main === module) {
  runBenches(parseArgs(process.argv.slice(2))).then(
    ({ results }) => process.exit(results.some((r) => r.failed) ? 1 : 0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
