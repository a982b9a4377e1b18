/**
 * Executions: `run` a runbook, `status` of one, `watch` its steps live until it finishes or stops at a gate, and
 * `rollback`. `watch` exits 0 when the execution succeeded, waits for approval, or was rolled back as requested; 1
 * when it failed, was rejected, timed out, was cancelled, or its rollback did not complete.
 */
import type { Command } from 'commander';
import type { ExecutionView } from '../../api/schemas';
import { TERMINAL_STATUSES, type ExecutionStatus } from '../../workflows/messages';
import { enc, type ApiClient } from '../client';
import { UsageError } from '../errors';
import type { CommandContext } from '../index';
import { canonicalJson, compact, print, table, when } from '../output';
import { collect, parseParams, targetOf } from '../params';

type Step = ExecutionView['steps'][number];

export function registerExecutions(program: Command, ctx: CommandContext): void {
  program
    .command('run')
    .description('start a runbook execution')
    .argument('<runbook>', 'runbook ID')
    .option('--param <key=value>', 'a runbook parameter (repeat for more)', collect, [])
    .option('--reason <text>', 'why (kept in the execution)')
    .option('--target-account <account>', 'the AWS account to act in (default: the worker’s own)')
    .option('--target-region <region>', 'the AWS region to act in (default: the worker’s own)')
    .option('--json', 'print the started execution as JSON')
    .action(
      async (
        runbook: string,
        opts: { param: string[]; reason?: string; targetAccount?: string; targetRegion?: string; json?: boolean },
      ) => {
        const api = ctx.api();
        const detail = await api.json<{ params: unknown }>(`/v1/runbooks/${enc(runbook)}`);
        const started = await api.post<{ executionId: string; runbookId: string; digest: string; status: string }>(
          `/v1/runbooks/${enc(runbook)}/executions`,
          { params: parseParams(opts.param, detail.params), reason: opts.reason, target: targetOf(opts) },
        );
        if (opts.json) return print(canonicalJson(started));
        print(`started ${started.executionId} (${started.runbookId}, ${started.status})`);
        print(`  follow it: firebreak watch ${started.executionId}`);
      },
    );

  program
    .command('status')
    .description("an execution's status, steps and pending gate")
    .argument('<execution>', 'execution ID')
    .option('--json', 'print the execution as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const x = await ctx.api().json<ExecutionView>(`/v1/executions/${enc(id)}`);
      print(opts.json ? canonicalJson(x) : renderStatus(x));
    });

  program
    .command('watch')
    .description('follow an execution step by step until it finishes or waits for approval')
    .argument('<execution>', 'execution ID')
    .option('--interval <ms>', 'how often to ask the API', '1000')
    .option('--json', 'print each change as a line of JSON')
    .action(async (id: string, opts: { interval: string; json?: boolean }) => {
      const interval = Number(opts.interval);
      if (!Number.isInteger(interval) || interval < 100) throw new UsageError('--interval must be at least 100 (ms)');
      const final = await watch(ctx.api(), id, interval, opts.json ?? false);
      if (!watchSucceeded(final)) process.exitCode = 1;
    });

  program
    .command('rollback')
    .description('roll an execution back (or release a contained resource)')
    .argument('<execution>', 'execution ID')
    .requiredOption('--reason <text>', 'why (kept in the execution)')
    .option('--json', 'print the API’s answer as JSON')
    .action(async (id: string, opts: { reason: string; json?: boolean }) => {
      const ack = await ctx
        .api()
        .post<{ executionId: string; accepted: boolean; status: string }>(`/v1/executions/${enc(id)}/rollback`, {
          reason: opts.reason,
        });
      print(opts.json ? canonicalJson(ack) : `rollback of ${id} accepted (status ${ack.status})`);
    });

  program
    .command('release')
    .description('release what a succeeded execution contained (inside its rollback window; needs the release roles)')
    .argument('<execution>', 'execution ID')
    .requiredOption('--reason <text>', 'why (kept in the execution)')
    .option('--json', 'print the API’s answer as JSON')
    .action(async (id: string, opts: { reason: string; json?: boolean }) => {
      const ack = await ctx
        .api()
        .post<{ executionId: string; status: string }>(`/v1/executions/${enc(id)}/release`, { reason: opts.reason });
      print(opts.json ? canonicalJson(ack) : `release of ${id} accepted (status ${ack.status})`);
    });

  program
    .command('window')
    .description('extend a succeeded execution’s rollback window, so it can still be released later')
    .argument('<execution>', 'execution ID')
    .requiredOption('--extend-by <duration>', 'how much longer, e.g. 3d or 12h (at most 30 days at a time)')
    .requiredOption('--reason <text>', 'why (kept in the execution)')
    .option('--json', 'print the API’s answer as JSON')
    .action(async (id: string, opts: { extendBy: string; reason: string; json?: boolean }) => {
      const ext = await ctx.api().post<{ until: string; previousUntil: string }>(`/v1/executions/${enc(id)}/window`, {
        reason: opts.reason,
        extendBy: opts.extendBy,
      });
      print(
        opts.json ? canonicalJson(ext) : `rollback window of ${id} now ends ${ext.until} (was ${ext.previousUntil})`,
      );
    });
}

const isTerminal = (s: string) => (TERMINAL_STATUSES as readonly string[]).includes(s);

function watchSucceeded(x: ExecutionView): boolean {
  switch (x.status as ExecutionStatus) {
    case 'succeeded':
    case 'waiting-approval':
      return true;
    case 'rolled-back':
      return x.rollback?.trigger === 'requested' && x.rollback.complete !== false;
    case 'failed':
    case 'cancelled':
    case 'running':
    case 'rolling-back':
      return false;
    default: {
      const unreachable: never = x.status as never;
      throw new Error(`unknown execution status ${String(unreachable)}`);
    }
  }
}

/** Polls until the execution is terminal or waits at a gate; prints each step change once. */
async function watch(api: ApiClient, id: string, intervalMs: number, json: boolean): Promise<ExecutionView> {
  const seen = new Map<string, string>();
  let lastStatus: string | undefined;
  for (;;) {
    const x = await api.json<ExecutionView>(`/v1/executions/${enc(id)}`);
    const final = x.status === 'waiting-approval' || isTerminal(x.status);
    const announce = () => {
      if (x.status === lastStatus) return;
      lastStatus = x.status;
      if (json) print(JSON.stringify({ event: 'execution', executionId: id, status: x.status }));
      else if (x.status !== 'waiting-approval') print(`${when(new Date().toISOString())}  execution ${x.status}`);
    };
    // A new status reads before the steps that follow it, and after the steps that ended the execution.
    if (!final) announce();
    for (const s of x.steps) {
      const key = `${s.status}|${s.attempts}|${s.rollback?.status ?? ''}`;
      if (seen.get(s.id) === key) continue;
      const first = !seen.has(s.id);
      seen.set(s.id, key);
      if (first && s.status === 'pending') continue;
      print(json ? JSON.stringify({ event: 'step', executionId: id, step: s }) : stepLine(s));
    }
    if (final) {
      announce();
      if (!json) print(finalWords(x));
      return x;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function stepLine(s: Step): string {
  const at = s.endedAt ?? s.startedAt ?? new Date().toISOString();
  const took = s.startedAt && s.endedAt ? `, ${seconds(s.startedAt, s.endedAt)}` : '';
  const attempts = s.attempts > 1 ? `, attempt ${s.attempts}` : '';
  const error = s.error ? `: ${s.error.message}` : '';
  const rollback = s.rollback ? `; rollback ${s.rollback.action} ${s.rollback.status}` : '';
  return `${when(at)}  ${s.id} ${s.status}${attempts}${took}${error}${rollback}`;
}

function finalWords(x: ExecutionView): string {
  const p = x.pendingApproval;
  if (x.status === 'waiting-approval' && p) {
    const needed = p.approvalsNeeded ?? p.policy?.min ?? 1;
    const roles = p.policy?.roles ?? p.roles ?? [];
    return [
      `waiting for approval: ${p.stepId} (${p.title})`,
      `  ${needed} more by ${roles.length > 0 ? roles.join(' or ') : 'any approver'}, before ${when(p.deadline)} (then ${p.onTimeout})`,
      `  decide: firebreak approve ${x.executionId} ${p.stepId} --comment "..."   (or reject)`,
      ...(x.pageUrl ? [`  or in the console: ${x.pageUrl}`] : []),
    ].join('\n');
  }
  if (x.failure) return `failed${x.failure.stepId ? ` at ${x.failure.stepId}` : ''}: ${x.failure.message}`;
  if (x.rollback) return `rolled back (${x.rollback.trigger}): ${x.rollback.reason}`;
  return `finished: ${x.status}`;
}

function seconds(from: string, to: string): string {
  return `${((new Date(to).getTime() - new Date(from).getTime()) / 1000).toFixed(1)}s`;
}

export function renderStatus(x: ExecutionView): string {
  const lines = [
    `${x.executionId}: ${x.status} (workflow ${x.workflowStatus})`,
    `  runbook ${x.runbookId} ${x.runbookVersion}: ${x.title}`,
    `  severity ${x.severity}${x.resource ? `, resource ${x.resource}` : ''}${x.incidentId ? `, incident ${x.incidentId}` : ''}`,
    `  started ${when(x.startedAt)} by ${x.startedBy.id}${x.reason ? `: ${x.reason}` : ''}`,
  ];
  if (x.endedAt) lines.push(`  ended ${when(x.endedAt)}`);
  if (x.rollbackWindowUntil) lines.push(`  rollback window until ${when(x.rollbackWindowUntil)}`);
  if (x.pageUrl) lines.push(`  console ${x.pageUrl}`);
  lines.push(
    '',
    table(
      ['step', 'kind', 'status', 'attempts', 'started', 'ended', 'detail'],
      x.steps.map((s) => [
        s.id,
        s.kind,
        s.status,
        String(s.attempts),
        when(s.startedAt),
        when(s.endedAt),
        stepDetail(s),
      ]),
    ),
  );
  if (x.status === 'waiting-approval' && x.pendingApproval) lines.push('', finalWords(x));
  if (x.failure) lines.push('', `failure${x.failure.stepId ? ` at ${x.failure.stepId}` : ''}: ${x.failure.message}`);
  if (x.rollback) {
    const r = x.rollback;
    lines.push(
      '',
      `rollback (${r.trigger}${r.requestedBy ? ` by ${r.requestedBy.id}` : ''}): ${r.reason}; started ${when(r.startedAt)}` +
        (r.endedAt ? `, ended ${when(r.endedAt)}` : '') +
        (r.complete === false ? ', INCOMPLETE' : ''),
    );
  }
  return lines.join('\n');
}

function stepDetail(s: Step): string {
  const parts: string[] = [];
  if (s.action) parts.push(s.action);
  const decisions = s.approvals ?? (s.approval ? [s.approval] : []);
  for (const d of decisions)
    parts.push(
      `${d.decision} by ${d.decidedBy.id}${d.comment ? ` "${d.comment}"` : ''}${d.via === 'timeout' ? ' (timeout)' : ''}`,
    );
  if (s.error) parts.push(`error: ${s.error.message}`);
  if (s.rollback) parts.push(`rollback ${s.rollback.action} ${s.rollback.status}`);
  if (s.output !== undefined && !s.error) parts.push(`→ ${compact(s.output, 60)}`);
  return parts.join('; ');
}
