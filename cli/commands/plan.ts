/**
 * `plan <runbook> --param k=v ...`: the dry run (POST /v1/runbooks/:id/plan) rendered for a person: per step what it
 * would do to which resource, the steps the plan cannot vouch for, the gates it would stop at, and the rollback plan.
 */
import type { Command } from 'commander';
import type { PlannedCall } from '../../activities/schemas';
import type { Plan, PlannedStep } from '../../workflows/plan-messages';
import { enc } from '../client';
import type { CommandContext } from '../index';
import { canonicalJson, compact, print } from '../output';
import { collect, parseParams, targetOf } from '../params';

export function registerPlan(program: Command, ctx: CommandContext): void {
  program
    .command('plan')
    .description('preview a runbook without changing AWS: what each step would do, gates, rollback plan')
    .argument('<runbook>', 'runbook ID')
    .option('--param <key=value>', 'a runbook parameter (repeat for more)', collect, [])
    .option('--target-account <account>', 'the AWS account to act in (default: the worker’s own)')
    .option('--target-region <region>', 'the AWS region to act in (default: the worker’s own)')
    .option('--json', 'print the plan as JSON')
    .action(
      async (
        runbook: string,
        opts: { param: string[]; targetAccount?: string; targetRegion?: string; json?: boolean },
      ) => {
        const api = ctx.api();
        const detail = await api.json<{ params: unknown }>(`/v1/runbooks/${enc(runbook)}`);
        const plan = await api.post<Plan>(`/v1/runbooks/${enc(runbook)}/plan`, {
          params: parseParams(opts.param, detail.params),
          target: targetOf(opts),
        });
        print(opts.json ? canonicalJson(plan) : renderPlan(plan));
      },
    );
}

const call = (c: PlannedCall) => `${c.service}:${c.operation} ${compact(c.input, 200)}`;

export function renderPlan(plan: Plan): string {
  const where = plan.target ? ` in ${[plan.target.account, plan.target.region].filter(Boolean).join('/')}` : '';
  const lines = [
    `Plan for ${plan.runbookId} ${plan.runbookVersion}${plan.resource ? ` on ${plan.resource}` : ''}${where}`,
    `  ${plan.planId}; nothing was changed`,
    '',
    'Steps:',
  ];
  plan.steps.forEach((s, i) => lines.push(...stepLines(s, i + 1)));
  lines.push('', `Changes it would make (${plan.changes.length}):`);
  if (plan.changes.length === 0) lines.push('  none found by the dry runs');
  for (const c of plan.changes) lines.push(`  ${c.stepId}: ${call(c)}`);
  if (plan.notPreviewable.length > 0) {
    lines.push('', `Not previewable (mutating, no dry-run form; the plan cannot vouch for them):`);
    lines.push(`  ${plan.notPreviewable.join(', ')}`);
  }
  const gates = plan.steps.filter((s) => s.outcome === 'gate');
  lines.push('', `Gates it would stop at (${gates.length}):`);
  if (gates.length === 0) lines.push('  none');
  for (const g of gates) lines.push(`  ${g.id}: ${gateText(g)}`);
  lines.push('', 'Rollback plan (in the order it would run):');
  if (plan.rollbackPlan.length === 0) lines.push('  nothing to undo');
  plan.rollbackPlan.forEach((r, i) =>
    lines.push(
      `  ${i + 1}. ${r.stepId}: ${r.action}${r.input !== undefined ? ` ${compact(r.input, 200)}` : ''}${r.note ? ` (${r.note})` : ''}`,
    ),
  );
  return lines.join('\n');
}

function gateText(s: PlannedStep): string {
  if (s.kind === 'wait') return `waits until ${s.until}`;
  const a = s.approval;
  if (!a) return 'approval';
  const who = a.roles && a.roles.length > 0 ? a.roles.join(' or ') : 'any approver';
  return `${a.min} approval${a.min === 1 ? '' : 's'} by ${who}${a.fourEyes ? ' (four-eyes)' : ''}; after ${a.timeout}: ${a.onTimeout}`;
}

function stepLines(s: PlannedStep, n: number): string[] {
  const kind = s.outcome === 'previewed' ? `previewed: ${s.preview}` : s.outcome;
  const out = [`  ${n}. ${s.id} [${kind}]${s.title ? ` ${s.title}` : ''}`];
  const more: string[] = [];
  if (s.action) more.push(`${s.action} ${compact(s.input ?? {}, 200)}`);
  if (s.outcome === 'gate') more.push(gateText(s));
  for (const c of s.calls ?? []) more.push(`would call ${call(c)}`);
  if (s.outcome === 'previewed' && s.preview === 'dry-run' && (s.calls ?? []).length === 0)
    more.push('would change nothing');
  if (s.note) more.push(`note: ${s.note}`);
  if (s.rollback) more.push(`rollback: ${s.rollback.action}${s.rollback.note ? ` (${s.rollback.note})` : ''}`);
  return [...out, ...more.map((m) => `       ${m}`)];
}
