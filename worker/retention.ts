/**
 * The namespace's retention: how long Temporal keeps a closed workflow's history before it drops it (forensics, the
 * replay of live histories and `firebreak export` need it until then; the evidence archive keeps a copy for longer).
 * With FIREBREAK_NAMESPACE_RETENTION set, the worker sets the namespace's retention at start when it differs; either
 * way it logs what the namespace keeps. Changing it needs the right to update the namespace (Temporal Cloud: set it
 * in the Cloud console instead): a refusal is logged and the worker runs on.
 */
import type { Client } from '@temporalio/client';

export interface RetentionResult {
  namespace: string;
  /** The retention in force now (ms), as the namespace reports it. */
  retentionMs?: number;
  outcome: 'unchanged' | 'updated' | 'not-configured' | 'refused';
  error?: string;
}

export async function ensureRetention(client: Client, namespace: string, wantMs?: number): Promise<RetentionResult> {
  const described = await client.workflowService.describeNamespace({ namespace });
  const ttl = described.config?.workflowExecutionRetentionTtl;
  const currentMs = ttl ? Number(ttl.seconds ?? 0) * 1000 + Math.round((ttl.nanos ?? 0) / 1e6) : undefined;
  if (wantMs === undefined) return { namespace, retentionMs: currentMs, outcome: 'not-configured' };
  if (currentMs === wantMs) return { namespace, retentionMs: currentMs, outcome: 'unchanged' };
  try {
    await client.workflowService.updateNamespace({
      namespace,
      // protobufjs encodes a plain number for an int64 field; its typings only name Long.
      config: {
        workflowExecutionRetentionTtl: { seconds: Math.floor(wantMs / 1000) as never, nanos: (wantMs % 1000) * 1e6 },
      },
    });
  } catch (err) {
    return { namespace, retentionMs: currentMs, outcome: 'refused', error: (err as Error).message };
  }
  return { namespace, retentionMs: wantMs, outcome: 'updated' };
}
