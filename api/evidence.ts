/**
 * The evidence manifest of an execution: every artefact its steps produced (snapshot IDs, command outputs, captured
 * metadata, volatile data, console output), each with its SHA-256, time and the step that produced it.
 *
 * Derived from the execution's history, not its state: the history holds every step's full output (the state query
 * summarises large ones) and the time Temporal recorded it, and it cannot be edited. Which outputs are evidence is
 * the catalogue's declaration (`ActionInfo.evidence`); the workflow knows nothing of it.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { ActionCatalogue, type EvidenceKind } from '../activities/catalogue';
import type { ActionOutput } from '../activities/schemas';
import { isActionName } from '../activities/catalogue';
import { canonicalJson } from '../runbooks/dsl/digest';
import { RUNBOOK_WORKFLOW } from '../workflows/messages';
import type { EvidenceArtefact, EvidenceManifest } from './schemas';
import { callTemporal, describeWorkflow } from './temporal';

function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** The digest of a structured artefact: of its canonical JSON, so key order does not matter. */
function digestJson(value: unknown): string {
  return sha256(canonicalJson(value));
}

interface Produced {
  stepId: string;
  action: string;
  kind: EvidenceKind;
  /** When Temporal recorded the step's completion. */
  at: string;
  output: unknown;
}

/**
 * One step's output as artefacts. A digest taken by the activity when it collected the data is kept and checked
 * against the content (`verified`); otherwise the digest is computed here from the recorded output.
 */
export function artefactsOf(p: Produced): EvidenceArtefact[] {
  const base = { stepId: p.stepId, action: p.action, kind: p.kind };
  switch (p.kind) {
    case 'instance-metadata': {
      const o = p.output as ActionOutput<'ec2.captureInstance'>;
      return [{ ...base, id: o.instanceId, sha256: digestJson(o), collectedAt: p.at, content: o }];
    }
    case 'ebs-snapshots': {
      const o = p.output as ActionOutput<'ec2.snapshotVolumes'>;
      return o.snapshots.map((s) => {
        const content = { instanceId: o.instanceId, ...s };
        return { ...base, id: s.snapshotId, sha256: digestJson(content), collectedAt: p.at, content };
      });
    }
    case 'command-output': {
      const o = p.output as ActionOutput<'ssm.runCommand'>;
      if (o.dryRun) return [];
      return (o.invocations ?? []).map((inv) => {
        const stdout = inv.stdout ?? '';
        const digest = sha256(stdout);
        return {
          ...base,
          id: `${o.commandId}/${inv.instanceId}`,
          sha256: inv.stdoutSha256 ?? digest,
          verified: inv.stdoutSha256 === undefined ? undefined : inv.stdoutSha256 === digest,
          truncated: inv.stdoutTruncated,
          collectedAt: p.at,
          content: stdout,
          details: { status: inv.status, responseCode: inv.responseCode, stderr: inv.stderr },
        };
      });
    }
    case 'volatile-data': {
      const o = p.output as ActionOutput<'ssm.collectVolatileData'>;
      return o.artefacts.map((a) => ({
        ...base,
        id: `${o.instanceId}/${a.name}`,
        name: a.name,
        sha256: a.sha256,
        verified: a.sha256 === sha256(a.content),
        truncated: a.truncated,
        collectedAt: a.collectedAt,
        content: a.content,
        details: { commandId: a.commandId, status: a.status, responseCode: a.responseCode },
      }));
    }
    case 'console-output': {
      const o = p.output as ActionOutput<'ec2.getConsoleOutput'>;
      return [
        {
          ...base,
          id: `${o.instanceId}/console`,
          sha256: o.sha256,
          verified: o.sha256 === sha256(o.output),
          collectedAt: o.collectedAt,
          content: o.output,
          details: { bytes: o.bytes, timestamp: o.timestamp },
        },
      ];
    }
    case 'automation-output': {
      const o = p.output as ActionOutput<'ssm.startAutomation'>;
      if (o.dryRun) return [];
      const content = { status: o.status, outputs: o.outputs, failureMessage: o.failureMessage };
      return [{ ...base, id: o.automationExecutionId, sha256: digestJson(content), collectedAt: p.at, content }];
    }
    default:
      return unreachable(p.kind);
  }
}

function unreachable(x: never): never {
  throw new Error(`unreachable evidence kind: ${JSON.stringify(x)}`);
}

export class EvidenceService {
  constructor(private readonly opts: { client: Client }) {}

  async manifest(executionId: string): Promise<EvidenceManifest> {
    const { client } = this.opts;
    const handle = client.workflow.getHandle(executionId);
    await describeWorkflow(client, handle, RUNBOOK_WORKFLOW, 'execution');
    const history = await callTemporal(client, () => handle.fetchHistory());
    const scheduled = new Map<string, { activityId: string; action: string }>();
    const produced: Produced[] = [];
    let runbookId = '';
    let digest = '';
    for (const event of history.events ?? []) {
      const started = event.workflowExecutionStartedEventAttributes;
      if (started) {
        const input = defaultPayloadConverter.fromPayload(started.input!.payloads![0]) as {
          runbook: { id: string };
          digest: string;
        };
        runbookId = input.runbook.id;
        digest = input.digest;
      }
      const s = event.activityTaskScheduledEventAttributes;
      if (s) scheduled.set(String(event.eventId), { activityId: s.activityId!, action: s.activityType!.name! });
      const c = event.activityTaskCompletedEventAttributes;
      if (!c) continue;
      const task = scheduled.get(String(c.scheduledEventId));
      // Step activities have the step ID as their activity ID; rollbacks and escalations are prefixed and never evidence.
      if (!task || task.activityId.includes(':') || !isActionName(task.action)) continue;
      const kind = ActionCatalogue[task.action].evidence;
      if (!kind) continue;
      const envelope = defaultPayloadConverter.fromPayload(c.result!.payloads![0]) as { output: unknown };
      produced.push({
        stepId: task.activityId,
        action: task.action,
        kind,
        at: new Date(timestampMs(event.eventTime)).toISOString(),
        output: envelope.output,
      });
    }
    const artefacts = produced.flatMap(artefactsOf);
    return {
      executionId,
      runbookId,
      digest,
      generatedAt: new Date().toISOString(),
      // Over the artefacts themselves (content included): one value to quote for the whole manifest.
      sha256: digestJson(artefacts),
      artefacts,
    };
  }
}

/** A protobuf Timestamp (seconds and nanos) as epoch milliseconds. */
function timestampMs(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(ts?.seconds ?? 0) * 1000 + Math.floor((ts?.nanos ?? 0) / 1e6);
}
