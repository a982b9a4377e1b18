/**
 * The evidence store: every closed incident occurrence's evidence bundles, written once into a directory that can be
 * synced to object storage with a write-once lock (README: "Evidence archive").
 *
 * Layout, one folder per occurrence (the incident's first run ID), never rewritten:
 *
 *   <root>/incidents/<incidentId>/<occurrence>/
 *     ARCHIVE.json            what is archived: the incident's runs, the runbook execution, when
 *     SHA256SUMS              over every file below, paths relative to this folder (`sha256sum -c SHA256SUMS`)
 *     incident/               `firebreak export` of the incident's runs (history*.json, timeline, evidence, sums)
 *     execution/              the same for its runbook execution, when it had one
 *
 * Durable and idempotent: a bundle is built in `<root>/.partial/`, each file flushed to disk, and renamed into place
 * in one step, so a reader (or a sync) never sees half a bundle; an attempt that finds the folder already there checks
 * it against its sums and stops. Nothing is archived before the incident run and its runbook execution have closed.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { evidenceBundle, parseSums, sumsOf, SUMS_FILE } from './bundle';
import { fetchRunChain, sha256Hex } from './history';

export interface ArchiveRequest {
  incidentId: string;
  /** The occurrence (the first run ID of its chain of runs). */
  occurrence: string;
  /** The run that closed the occurrence: the chain is read back from it. */
  runId: string;
  /** The runbook execution the occurrence started, if any. */
  executionId?: string;
}

export interface ArchiveResult {
  /** The occurrence's folder, relative to the store's root. */
  path: string;
  outcome: 'archived' | 'already-archived';
  /** Files in the folder, relative to it. */
  files: string[];
}

/** Not archived yet: the incident run or its runbook execution still runs (retry later). */
export class NotClosedYetError extends Error {
  override readonly name = 'NotClosedYetError';
  readonly code = 'NOT_CLOSED_YET';
}

/** A folder already in the store does not match its own sums: never overwritten, a human must look. */
export class EvidenceMismatchError extends Error {
  override readonly name = 'EvidenceMismatchError';
  readonly code = 'EVIDENCE_MISMATCH';
}

const ARCHIVE_FILE = 'ARCHIVE.json';
const PARTIAL = '.partial';

/** A workflow or run ID as one path segment (Temporal allows `/` in IDs). */
function segment(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9._@+=-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return safe === '.' || safe === '..' ? encodeURIComponent(safe).replace(/\./g, '%2e') : safe;
}

export function occurrenceFolder(incidentId: string, occurrence: string): string {
  return path.join('incidents', segment(incidentId), segment(occurrence));
}

/** Problems with an archived occurrence folder: files missing or altered against its SHA256SUMS; [] when intact. */
export function verifyArchive(folder: string): string[] {
  const sumsPath = path.join(folder, SUMS_FILE);
  if (!existsSync(sumsPath)) return [`${SUMS_FILE} missing`];
  const problems: string[] = [];
  for (const { name, sha256 } of parseSums(readFileSync(sumsPath, 'utf8'))) {
    const file = path.join(folder, name);
    if (!existsSync(file)) problems.push(`${name}: missing`);
    else if (sha256Hex(readFileSync(file)) !== sha256) problems.push(`${name}: SHA-256 differs`);
  }
  return problems;
}

/** Archives one closed occurrence of an incident into the store at `root`, or finds it archived already. */
export async function archiveIncident(client: Client, root: string, req: ArchiveRequest): Promise<ArchiveResult> {
  const relative = occurrenceFolder(req.incidentId, req.occurrence);
  const target = path.join(root, relative);
  if (existsSync(target)) return existing(target, relative);

  const incident = await client.workflow.getHandle(req.incidentId, req.runId).describe();
  if (incident.status.name === 'RUNNING') throw new NotClosedYetError(`incident run ${req.runId} still runs`);
  let executionRuns;
  if (req.executionId) {
    try {
      const execution = await client.workflow.getHandle(req.executionId).describe();
      if (execution.status.name === 'RUNNING')
        throw new NotClosedYetError(`runbook execution ${req.executionId} still runs`);
      executionRuns = await fetchRunChain(client, req.executionId);
    } catch (err) {
      // Gone past the namespace's retention: the incident's own history still says what it did.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  const incidentRuns = await fetchRunChain(client, req.incidentId, 100, req.runId);

  const files: Record<string, string> = {};
  const add = (dir: string, bundle: Record<string, string>) => {
    for (const [name, text] of Object.entries(bundle)) files[`${dir}/${name}`] = text;
  };
  add('incident', evidenceBundle(incidentRuns).files);
  if (executionRuns) add('execution', evidenceBundle(executionRuns).files);
  files[ARCHIVE_FILE] = `${JSON.stringify(
    {
      incidentId: req.incidentId,
      occurrence: req.occurrence,
      incidentRuns: incidentRuns.map((r) => r.runId),
      ...(req.executionId
        ? { executionId: req.executionId, executionRuns: executionRuns?.map((r) => r.runId) ?? 'past retention' }
        : {}),
      archivedAt: new Date().toISOString(),
    },
    null,
    2,
  )}\n`;
  files[SUMS_FILE] = sumsOf(files);

  const partial = path.join(
    root,
    PARTIAL,
    `${segment(req.occurrence)}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  try {
    for (const [name, text] of Object.entries(files)) writeDurably(path.join(partial, name), text);
    mkdirSync(path.dirname(target), { recursive: true });
    try {
      renameSync(partial, target);
    } catch (err) {
      // Another attempt renamed its bundle into place first: that one stands.
      if (existsSync(target)) return existing(target, relative);
      throw err;
    }
    syncDir(path.dirname(target));
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return { path: relative, outcome: 'archived', files: Object.keys(files) };
}

function existing(target: string, relative: string): ArchiveResult {
  const problems = verifyArchive(target);
  if (problems.length > 0) throw new EvidenceMismatchError(`${relative} is in the store but ${problems.join('; ')}`);
  return {
    path: relative,
    outcome: 'already-archived',
    files: [...parseSums(readFileSync(path.join(target, SUMS_FILE), 'utf8')).map((s) => s.name), SUMS_FILE],
  };
}

/** Writes and flushes a file (its folders created and flushed too), so a rename after it never exposes a hole. */
function writeDurably(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, 'wx');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  syncDir(path.dirname(file));
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
