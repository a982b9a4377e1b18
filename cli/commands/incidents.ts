/**
 * `incidents list`: incidents from the API's list (visibility), newest first, filtered like the API.
 */
import type { Command } from 'commander';
import type { Static } from '@sinclair/typebox';
import type { ListResponse } from '../../api/schemas';
import { UsageError } from '../errors';
import type { CommandContext } from '../index';
import { canonicalJson, print, table, when } from '../output';

type Item = Static<typeof ListResponse>['items'][number];
interface ListOptions {
  status?: string;
  severity?: string;
  type?: string;
  drills?: boolean;
  limit: string;
  json?: boolean;
}

export function registerIncidents(program: Command, ctx: CommandContext): void {
  const incidents = program.command('incidents').description('incidents');
  incidents
    .command('list')
    .description('incidents, newest first')
    .option('--status <status>', 'only this status (opened, triaged, runbook-running, contained, resolved, ...)')
    .option('--severity <severity>', 'only this severity (SEV1 … SEV4)')
    .option('--type <type>', 'only this incident type')
    .option('--drills', 'drill incidents (scheduled or run by `firebreak drill`) instead of real ones')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print them as JSON')
    .action(async (opts: ListOptions) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
      const api = ctx.api();
      const items: Item[] = [];
      let token: string | undefined;
      do {
        const q = new URLSearchParams({ pageSize: String(Math.min(500, limit - items.length)) });
        for (const key of ['status', 'severity', 'type'] as const) if (opts[key]) q.set(key, opts[key]!);
        if (opts.drills) q.set('drill', 'true');
        if (token) q.set('pageToken', token);
        const page = await api.json<Static<typeof ListResponse>>(`/v1/incidents?${q}`);
        items.push(...page.items);
        token = page.nextPageToken;
      } while (token && items.length < limit);
      const shown = items.slice(0, limit);
      if (opts.json) return print(canonicalJson(shown));
      print(
        table(
          ['incident', 'severity', 'status', 'type', 'resource', 'opened'],
          shown.map((i) => [i.id, i.severity, i.status, i.type, i.resource, when(i.startedAt)]),
          'no incidents',
        ),
      );
    });
}
