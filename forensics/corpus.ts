/**
 * The replay corpus in test/histories/: one folder per release (`<version>/`), each with the histories recorded from
 * that release's code (scripts/record-histories.ts) and a MANIFEST.json naming and hashing them. CI replays every
 * folder against today's code (test/workflows/replay-corpus.test.ts). A workflow that ran more than once (continue-as-
 * new, or a new occurrence of an incident) has one file per run, each replayed on its own.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { HistorySource } from './replay';

export const MANIFEST = 'MANIFEST.json';

export interface ManifestEntry {
  scenario: string;
  file: string;
  description: string;
  workflowType: string;
  workflowId: string;
  runId: string;
  /** How the execution closed: COMPLETED, FAILED, CANCELLED ... */
  status: string;
  eventCount: number;
  /** SHA-256 (hex) of the file's bytes. */
  sha256: string;
}

export interface Manifest {
  /** package.json's version when recorded. */
  version: string;
  recordedAt: string;
  temporalSdk: string;
  histories: ManifestEntry[];
}

export interface CorpusRelease {
  version: string;
  dir: string;
  manifest: Manifest;
  histories: (HistorySource & { entry: ManifestEntry })[];
  /** Files missing, altered (hash) or not in the manifest: a corpus is written once and never edited. */
  problems: string[];
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The release folders under `root` (each holding a MANIFEST.json), oldest name first. */
export function corpusReleases(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.') && existsSync(path.join(root, d.name, MANIFEST)))
    .map((d) => d.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** Reads one release folder: its manifest, its histories (parsed JSON) and any integrity problem. */
export function readCorpusRelease(root: string, version: string): CorpusRelease {
  const dir = path.join(root, version);
  const manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as Manifest;
  const problems: string[] = [];
  const histories: CorpusRelease['histories'] = [];
  for (const entry of manifest.histories) {
    const file = path.join(dir, entry.file);
    if (!existsSync(file)) {
      problems.push(`${version}/${entry.file}: listed in the manifest but missing`);
      continue;
    }
    const bytes = readFileSync(file);
    if (sha256(bytes) !== entry.sha256) problems.push(`${version}/${entry.file}: SHA-256 differs from the manifest`);
    histories.push({
      name: `${version}/${entry.scenario}`,
      workflowId: entry.workflowId,
      history: JSON.parse(bytes.toString('utf8')),
      entry,
    });
  }
  const listed = new Set(manifest.histories.map((h) => h.file));
  for (const f of readdirSync(dir)) {
    if (f !== MANIFEST && !listed.has(f)) problems.push(`${version}/${f}: not in the manifest`);
  }
  if (manifest.version !== version) problems.push(`${version}/${MANIFEST}: says version ${manifest.version}`);
  problems.push(...brokenChains(version, histories));
  return { version, dir, manifest, histories, problems };
}

/**
 * Every run a recorded run continued as new into must be recorded too (each run is its own history, and the replayer
 * replays them one by one): a chain recorded in part would leave later runs' code unchecked.
 */
function brokenChains(version: string, histories: CorpusRelease['histories']): string[] {
  const continuedFrom = new Set(
    histories.map((h) => {
      const start = eventsOf(h.history)[0]?.workflowExecutionStartedEventAttributes;
      return `${h.workflowId}/${start?.continuedExecutionRunId ?? ''}`;
    }),
  );
  return histories
    .filter((h) => eventsOf(h.history).at(-1)?.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW')
    .filter((h) => !continuedFrom.has(`${h.workflowId}/${h.entry.runId}`))
    .map((h) => `${version}/${h.entry.file}: continued as new, but the run it continued into is not in the corpus`);
}

function eventsOf(history: unknown): Record<string, any>[] {
  const events = (history as { events?: unknown } | undefined)?.events;
  return Array.isArray(events) ? events : [];
}
