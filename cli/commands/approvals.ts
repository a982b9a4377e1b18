/**
 * Approval gates: `approve`/`reject` one (the same route and checks as the console and the API), and `approvals`: the
 * gates pending, or with `--mine` only those the caller may decide now.
 */
import type { Command } from 'commander';
import type { Static } from '@sinclair/typebox';
import type { ApprovalRecordSchema, PendingGate } from '../../api/schemas';
import { enc } from '../client';
import type { CommandContext } from '../index';
import { canonicalJson, print, table, when } from '../output';

type Decision = Static<typeof ApprovalRecordSchema>;

export function registerApprovals(program: Command, ctx: CommandContext): void {
  for (const decision of ['approve', 'reject'] as const) {
    program
      .command(decision)
      .description(`${decision} an execution's pending approval gate`)
      .argument('<execution>', 'execution ID')
      .argument('<step>', 'the approval step ID')
      .option('--comment <text>', 'kept in the execution history with the decision')
      .option('--json', 'print the decision as JSON')
      .action(async (id: string, step: string, opts: { comment?: string; json?: boolean }) => {
        const record = await ctx
          .api()
          .post<Decision>(`/v1/executions/${enc(id)}/approvals/${enc(step)}`, { decision, comment: opts.comment });
        if (opts.json) return print(canonicalJson(record));
        const done = decision === 'approve' ? 'approved' : 'rejected';
        const gate =
          record.gate === 'pending'
            ? `; ${record.approvalsNeeded ?? '?'} more approval(s) needed`
            : `; gate ${record.gate}`;
        print(`${done} ${step} of ${id} as ${record.decidedBy.id}${record.gate ? gate : ''}`);
      });
  }

  program
    .command('approvals')
    .description('pending approval gates (with --mine: those you may decide now)')
    .option('--mine', 'only the gates the caller may decide now')
    .option('--json', 'print the gates as JSON')
    .action(async (opts: { mine?: boolean; json?: boolean }) => {
      const api = ctx.api();
      const items: PendingGate[] = [];
      let token: string | undefined;
      do {
        const q = new URLSearchParams({ pageSize: '100', ...(opts.mine ? { mine: 'true' } : {}) });
        if (token) q.set('pageToken', token);
        const page = await api.json<{ items: PendingGate[]; nextPageToken?: string }>(`/v1/approvals?${q}`);
        items.push(...page.items);
        token = page.nextPageToken;
      } while (token);
      if (opts.json) return print(canonicalJson(items));
      print(
        table(
          ['execution', 'step', 'severity', 'resource', 'needs', 'roles', 'deadline'],
          items.map((g) => [
            g.executionId,
            g.stepId,
            g.severity,
            g.resource,
            `${g.approvalsNeeded} of ${g.policy.min}`,
            g.policy.roles.join(',') || 'any',
            when(g.deadline),
          ]),
          opts.mine ? 'nothing waits for your decision' : 'no pending approvals',
        ),
      );
    });
}
