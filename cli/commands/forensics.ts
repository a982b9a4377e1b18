/**
 * Forensic review commands: `timeline`, `export`, `replay`, `report`. They read through the API (timeline, raw
 * history with its SHA-256, report) and rebuild locally what must be reproducible: an exported history gives the
 * same timeline, byte for byte, today or in a year (`timeline --file`).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parseHistory, runIdOf, sha256Hex, workflowIdOf, type RunHistory } from '../../forensics/history';
import { evidenceBundle } from '../../forensics/bundle';
import { renderTimeline } from '../../forensics/render';
import { buildTimeline, parsePointInTime, type Timeline } from '../../forensics/timeline';
import { enc, type ApiClient } from '../client';
import { CliError, UsageError } from '../errors';
import type { CommandContext } from '../index';
import { canonicalJson, print } from '../output';

type Kind = 'execution' | 'incident';
const SHA256_HEADER = 'x-content-sha256';
const RUN_ID_HEADER = 'x-temporal-run-id';

/** Incident IDs start with `incident-` (api/incidents.ts); `--kind` says otherwise. */
function kindOf(id: string, flag?: string): Kind {
  if (flag === 'execution' || flag === 'incident') return flag;
  if (flag !== undefined) throw new UsageError(`--kind must be execution or incident (got ${flag})`);
  return id.startsWith('incident-') ? 'incident' : 'execution';
}
const base = (kind: Kind, id: string) => `/v1/${kind}s/${enc(id)}`;

/** One run's history through the API, its bytes checked against the SHA-256 the API sent. */
async function fetchHistory(api: ApiClient, kind: Kind, id: string, runId?: string) {
  const res = await api.raw(`${base(kind, id)}/history${runId ? `?runId=${enc(runId)}` : ''}`);
  const expected = res.headers.get(SHA256_HEADER);
  const actual = sha256Hex(res.body);
  if (expected !== actual)
    throw new CliError(`history of ${id} arrived damaged: SHA-256 ${actual}, API said ${expected}`);
  const text = res.body.toString('utf8');
  const history = parseHistory(text, `history of ${id}`);
  return { runId: res.headers.get(RUN_ID_HEADER) ?? runIdOf(history) ?? '', text, sha256: actual, history };
}

/** History files (or export folders) as runs, in the order given. */
function readRuns(files: string[]): RunHistory[] {
  const paths = files.flatMap((f) => {
    if (!existsSync(f)) throw new UsageError(`no such file: ${f}`);
    if (!statSync(f).isDirectory()) return [f];
    const inDir = readdirSync(f)
      .filter((n) => /^history(-\d+)?\.json$/.test(n))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    if (inDir.length === 0) throw new UsageError(`${f} holds no history*.json`);
    return inDir.map((n) => path.join(f, n));
  });
  return paths.map((p) => {
    const history = parseHistory(readFileSync(p, 'utf8'), p);
    return { workflowId: workflowIdOf(history) ?? path.basename(p), runId: runIdOf(history) ?? '', history };
  });
}

function point(at?: string) {
  if (at === undefined) return undefined;
  try {
    return parsePointInTime(at);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function registerForensics(program: Command, ctx: CommandContext): void {
  program
    .command('timeline')
    .description('the timeline of an execution or incident, rebuilt from its history')
    .argument('[id]', 'execution or incident ID')
    .option('--file <paths...>', 'build it from exported history files (or export folders) instead of the API')
    .option('--at <point>', 'the state at an event ID or an ISO time')
    .option('--kind <kind>', 'execution or incident (default: from the ID)')
    .option('--json', 'print the timeline as JSON')
    .action(async (id: string | undefined, opts: { file?: string[]; at?: string; kind?: string; json?: boolean }) => {
      if (!id === !opts.file) throw new UsageError('give an ID or --file, not both or neither');
      let timeline: Timeline;
      if (opts.file) {
        try {
          timeline = buildTimeline(readRuns(opts.file), point(opts.at));
        } catch (err) {
          if (err instanceof CliError) throw err;
          throw new CliError((err as Error).message);
        }
      } else {
        const kind = kindOf(id!, opts.kind);
        point(opts.at); // a malformed point is a usage error before any request
        const query = opts.at !== undefined ? `?at=${enc(opts.at)}` : '';
        timeline = await ctx.api().json<Timeline>(`${base(kind, id!)}/timeline${query}`);
      }
      print(opts.json ? canonicalJson(timeline) : renderTimeline(timeline));
    });

  program
    .command('export')
    .description('write history, timeline, evidence manifest and SHA256SUMS of an execution or incident to <dir>')
    .argument('<id>', 'execution or incident ID')
    .argument('<dir>', 'folder to write (created; existing files of the same names are replaced)')
    .option('--kind <kind>', 'execution or incident (default: from the ID)')
    .option('--json', 'print what was written as JSON')
    .action(async (id: string, dir: string, opts: { kind?: string; json?: boolean }) => {
      const api = ctx.api();
      const kind = kindOf(id, opts.kind);
      // The runs come from the API's timeline; each run's history is fetched and hash-checked on its own.
      const live = await api.json<Timeline>(`${base(kind, id)}/timeline`);
      const runs = await Promise.all(live.runs.map((r) => fetchHistory(api, kind, id, r.runId)));
      mkdirSync(dir, { recursive: true });
      // Rebuilt here from the very bytes written: `timeline --file` on them reproduces timeline.json exactly.
      const { timeline, files } = evidenceBundle(
        runs.map((r) => ({ workflowId: id, runId: r.runId, history: r.history })),
        runs.map((r) => r.text),
      );
      for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
      const written = Object.keys(files);
      print(
        opts.json
          ? canonicalJson({ workflowId: timeline.workflowId, dir, files: written })
          : `exported ${timeline.workflowId} (${runs.length} run${runs.length === 1 ? '' : 's'}) to ${dir}: ${written.join(', ')}`,
      );
    });

  program
    .command('replay')
    .description("replay histories against today's workflow code: identical, or the first divergence")
    .argument('[targets...]', 'execution/incident IDs or history files')
    .option('--query <filters>', 'replay what a list returns: "runbook=... status=... severity=... since=..."')
    .option('--incidents', 'with --query: list incidents instead of executions')
    .option('--limit <n>', 'with --query: at most this many', '50')
    .option('--processes <n>', 'replay in this many processes (default: 1 below 100 histories, else one per CPU)')
    .option('--json', 'print the verdicts as JSON')
    .action(
      async (
        targets: string[],
        opts: { query?: string; incidents?: boolean; limit: string; processes?: string; json?: boolean },
      ) => {
        if (targets.length === 0 && !opts.query) throw new UsageError('give IDs, files or --query');
        const processes = opts.processes === undefined ? undefined : Number(opts.processes);
        if (processes !== undefined && !(Number.isInteger(processes) && processes >= 1 && processes <= 64))
          throw new UsageError('--processes takes a whole number from 1 to 64');
        const sources: { name: string; workflowId: string; history: unknown }[] = [];
        for (const t of targets) {
          if (existsSync(t)) {
            for (const run of readRuns([t]))
              sources.push({ name: t, workflowId: run.workflowId, history: run.history });
          } else {
            const kind = kindOf(t);
            const h = await fetchHistory(ctx.api(), kind, t);
            sources.push({ name: t, workflowId: t, history: h.history });
          }
        }
        if (opts.query) {
          const kind: Kind = opts.incidents ? 'incident' : 'execution';
          for (const id of await listIds(ctx.api(), kind, opts.query, Number(opts.limit))) {
            const h = await fetchHistory(ctx.api(), kind, id);
            sources.push({ name: id, workflowId: id, history: h.history });
          }
        }
        if (sources.length === 0) {
          print(opts.json ? canonicalJson([]) : 'nothing to replay');
          return;
        }
        // Loaded here only (require: tsx registers CommonJS loading only): the SDK's worker is heavy to load.
        /* eslint-disable @typescript-eslint/no-require-imports */
        const { DefaultLogger, Runtime } = require('@temporalio/worker') as typeof import('@temporalio/worker');
        const replay = require('../../forensics/replay') as typeof import('../../forensics/replay');
        /* eslint-enable @typescript-eslint/no-require-imports */
        Runtime.install({
          logger: new DefaultLogger('ERROR'),
          telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
        });
        const { formatVerdict, replayHistories } = replay;
        const verdicts = await replayHistories(sources, undefined, { processes });
        print(opts.json ? canonicalJson(verdicts) : verdicts.map(formatVerdict).join('\n'));
        if (verdicts.some((v) => !v.identical)) process.exitCode = 1;
      },
    );

  program
    .command('report')
    .description('the post-incident report (Markdown draft) of an incident')
    .argument('<incidentId>')
    .option('--json', 'print the report data as JSON (the Markdown included)')
    .action(async (id: string, opts: { json?: boolean }) => {
      const path = `${base('incident', id)}/report`;
      if (opts.json) print(canonicalJson(await ctx.api().json(`${path}?format=json`)));
      else print(await ctx.api().text(path));
    });
}

const FILTERS = ['status', 'severity', 'runbook', 'resource', 'type', 'since', 'until'];

/** `--query "runbook=ec2-compromise status=failed"`: the list endpoint's filters, paged up to `limit` IDs. */
async function listIds(api: ApiClient, kind: Kind, query: string, limit: number): Promise<string[]> {
  const params = new URLSearchParams();
  for (const pair of query.trim().split(/\s+/).filter(Boolean)) {
    const [key, ...rest] = pair.split('=');
    if (!FILTERS.includes(key) || rest.length === 0)
      throw new UsageError(`--query takes key=value pairs with keys ${FILTERS.join(', ')} (got "${pair}")`);
    params.set(key, rest.join('='));
  }
  if (!(limit > 0)) throw new UsageError('--limit must be a positive number');
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = new URLSearchParams(params);
    page.set('pageSize', String(Math.min(100, limit - ids.length)));
    if (token) page.set('pageToken', token);
    const res = await api.json<{ items: { id: string }[]; nextPageToken?: string }>(`/v1/${kind}s?${page}`);
    ids.push(...res.items.map((i) => i.id));
    token = res.nextPageToken;
  } while (token && ids.length < limit);
  return ids.slice(0, limit);
}
