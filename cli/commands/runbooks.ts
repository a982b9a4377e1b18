/**
 * `runbooks list|show|validate`: what runbooks the API serves, one of them as a readable outline (steps, approval
 * gates with their policy, the rollback plan), and local validation of runbook files before they ship.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Static } from '@sinclair/typebox';
import type { RunbookDetail, RunbookSummary } from '../../api/schemas';
import type { RunbookDefinition } from '../../runbooks/dsl/types';
import { RunbookValidationError } from '../../runbooks/dsl/validate';
import { RunbookRegistry } from '../../runbooks/registry';
import { enc } from '../client';
import { CliError, UsageError } from '../errors';
import type { CommandContext } from '../index';
import { canonicalJson, compact, print, table } from '../output';

type Detail = Static<typeof RunbookDetail>;
type Step = Detail['steps'][number];

/** The runbooks firebreak ships (what `npm run runbooks:validate` checks). */
const SHIPPED = path.join(__dirname, '..', '..', 'runbooks', 'index.ts');

export function registerRunbooks(program: Command, ctx: CommandContext): void {
  const runbooks = program.command('runbooks').description('list, show and validate runbooks');

  runbooks
    .command('list')
    .description('the runbooks the API serves')
    .option('--json', 'print them as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { runbooks: list } = await ctx.api().json<{ runbooks: Static<typeof RunbookSummary>[] }>('/v1/runbooks');
      if (opts.json) return print(canonicalJson(list));
      print(
        table(
          ['id', 'version', 'severity', 'incident type', 'title'],
          list.map((r) => [r.id, r.version, r.severity, r.incidentType, r.title]),
          'no runbooks',
        ),
      );
    });

  runbooks
    .command('show')
    .description('a runbook as an outline: params, steps, approval gates and their policy, rollback plan')
    .argument('<id>', 'runbook ID')
    .option('--json', 'print the runbook as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const rb = await ctx.api().json<Detail>(`/v1/runbooks/${enc(id)}`);
      print(opts.json ? canonicalJson(rb) : outline(rb));
    });

  runbooks
    .command('validate')
    .description('validate runbook definitions locally (a .ts/.js module exporting them, or a .json file)')
    .argument('[path]', "a runbook file (default: firebreak's own runbooks)")
    .option('--json', 'print the result as JSON')
    .action((file: string | undefined, opts: { json?: boolean }) => {
      const definitions = load(file ?? SHIPPED);
      let registry: RunbookRegistry;
      try {
        registry = new RunbookRegistry(definitions);
      } catch (err) {
        if (!(err instanceof RunbookValidationError)) throw err;
        if (opts.json) print(canonicalJson({ ok: false, issues: err.issues }));
        else print(err.message);
        throw new CliError(`${err.issues.length} problem${err.issues.length === 1 ? '' : 's'} found`);
      }
      const loaded = registry.list().map(({ definition: d, digest }) => ({
        id: d.id,
        version: d.version,
        steps: d.steps.length,
        digest,
      }));
      if (opts.json) return print(canonicalJson({ ok: true, runbooks: loaded }));
      print(loaded.map((r) => `ok  ${r.id}@${r.version}  ${r.steps} steps  ${r.digest}`).join('\n'));
    });
}

/** Runbook definitions from a file: a JSON definition (or array), or every runbook a module exports. */
function load(file: string): RunbookDefinition[] {
  const resolved = path.resolve(file);
  if (!existsSync(resolved)) throw new UsageError(`no such file: ${file}`);
  let exported: unknown;
  try {
    if (resolved.endsWith('.json')) exported = JSON.parse(readFileSync(resolved, 'utf8'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a user's module, loaded at run time (tsx)
    else exported = require(resolved);
  } catch (err) {
    throw new CliError(`cannot load ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const found = collectRunbooks(exported);
  if (found.length === 0) throw new CliError(`${file} exports no runbook definition (an object with id and steps)`);
  return found;
}

function collectRunbooks(value: unknown, depth = 0): RunbookDefinition[] {
  if (depth > 2 || !value || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((v) => collectRunbooks(v, depth + 1));
  const o = value as Record<string, unknown>;
  if (typeof o.id === 'string' && Array.isArray(o.steps)) return [o as unknown as RunbookDefinition];
  // A module's exports: each named export once (`default` may repeat a named one).
  const seen = new Set<unknown>();
  return Object.values(o).flatMap((v) => {
    if (seen.has(v)) return [];
    seen.add(v);
    return collectRunbooks(v, depth + 1);
  });
}

function outline(rb: Detail): string {
  const lines = [`${rb.id} ${rb.version}: ${rb.title}`, `  ${rb.description}`];
  lines.push(`  incident type ${rb.incidentType}, severity ${rb.severity}, digest ${rb.digest}`);
  const release = rb.release.roles.length > 0 ? rb.release.roles.join(', ') : 'anyone who may roll back';
  lines.push(
    `  rollback window ${rb.rollbackWindow ?? 'none'}; release by ${release}` +
      (rb.release.source === 'gate-roles' ? " (the gates' roles)" : ''),
  );
  const params = rb.params as { properties?: Record<string, any>; required?: string[] } | undefined;
  lines.push('', 'Params:');
  for (const [name, p] of Object.entries(params?.properties ?? {})) {
    const required = params?.required?.includes(name) ? 'required' : 'optional';
    const dflt = p.default !== undefined ? `, default ${compact(p.default)}` : '';
    lines.push(`  ${name} (${p.type ?? 'any'}, ${required}${dflt})${p.description ? `: ${p.description}` : ''}`);
  }
  lines.push('', 'Steps:');
  rb.steps.forEach((s, i) => lines.push(...stepLines(s, i + 1)));
  const rollback = rb.steps.filter((s) => s.rollbackAction).reverse();
  lines.push('', 'Rollback plan (last step first):');
  if (rollback.length === 0) lines.push('  nothing to undo');
  rollback.forEach((s, i) => lines.push(`  ${i + 1}. ${s.id}: ${s.rollbackAction}`));
  return lines.join('\n');
}

function stepLines(s: Step, n: number): string[] {
  const head = `  ${n}. ${s.id} [${s.kind}]${s.title ? ` ${s.title}` : ''}`;
  const more: string[] = [];
  switch (s.kind) {
    case 'action':
      more.push(`action ${s.action}${s.rollbackAction ? `; rollback ${s.rollbackAction}` : '; no rollback'}`);
      if (s.timeout !== undefined) more.push(`timeout ${s.timeout}`);
      break;
    case 'approval': {
      const p = s.policy;
      if (p) {
        const who = p.roles.length > 0 ? p.roles.join(' or ') : 'any approver';
        more.push(`approval by ${who}: ${p.min} needed${p.fourEyes ? ', not the starter (four-eyes)' : ''}`);
      }
      more.push(`timeout ${s.timeout ?? 'none'}, then ${s.onTimeout ?? 'reject'}`);
      for (const e of s.escalation ?? []) more.push(`escalates after ${e.after} to ${compact(e.topicArn, 80)}`);
      if (s.instructions) more.push(`instructions: ${s.instructions}`);
      break;
    }
    case 'wait':
      more.push(`waits until ${s.until}; timeout ${s.timeout ?? 'none'}, then ${s.onTimeout ?? 'fail'}`);
      break;
    default:
      more.push(`(${s.kind})`);
  }
  return [head, ...more.map((m) => `       ${m}`)];
}
