/**
 * An evidence bundle: the files `firebreak export` writes for one workflow ID and that the archive keeps for every
 * closed incident. Each run's history as exported (`history.json`, or `history-1.json`, `history-2.json` ... for a
 * chain of runs, oldest first), the timeline rebuilt from exactly those bytes, the evidence manifest, and SHA256SUMS
 * over them (`sha256sum -c SHA256SUMS` checks a copy). The same runs always give the same bytes.
 */
import { canonicalJson } from './canonical-json';
import { serialiseHistory, sha256Hex, type RunHistory } from './history';
import { evidenceOf } from './report';
import { buildTimeline, type Timeline } from './timeline';

export const SUMS_FILE = 'SHA256SUMS';

export interface Bundle {
  timeline: Timeline;
  /** File name → contents, SHA256SUMS last. */
  files: Record<string, string>;
}

/** The bundle of a workflow's runs (oldest first); `texts`: the runs' history bytes as received, when already known. */
export function evidenceBundle(runs: readonly RunHistory[], texts?: readonly string[]): Bundle {
  const files: Record<string, string> = {};
  runs.forEach((r, i) => {
    files[runs.length === 1 ? 'history.json' : `history-${i + 1}.json`] = texts?.[i] ?? serialiseHistory(r.history);
  });
  const timeline = buildTimeline(runs);
  files['timeline.json'] = canonicalJson(timeline);
  files['evidence.json'] = canonicalJson({
    workflowId: timeline.workflowId,
    workflowType: timeline.workflowType,
    runs: timeline.runs.map((r) => ({ runId: r.runId, historySha256: r.historySha256 })),
    items: evidenceOf(timeline),
  });
  files[SUMS_FILE] = sumsOf(files);
  return { timeline, files };
}

/** `<sha256>  <name>` lines, as `sha256sum` writes and checks them. */
export function sumsOf(files: Record<string, string>): string {
  const lines = Object.entries(files)
    .filter(([name]) => name !== SUMS_FILE)
    .map(([name, text]) => `${sha256Hex(text)}  ${name}`);
  return `${lines.join('\n')}\n`;
}

/** The names and digests a SHA256SUMS file lists. */
export function parseSums(text: string): { name: string; sha256: string }[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
      if (!m) throw new Error(`not a SHA256SUMS line: ${line}`);
      return { sha256: m[1], name: m[2] };
    });
}
