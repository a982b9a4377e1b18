/**
 * Alert routing: which runbook (if any) an alert starts, with which params and at which severity.
 * Runbooks are tried in registry order and their triggers in definition order; the first match wins.
 */
import { resolveValue } from '../runbooks/dsl/expressions';
import { validateParams, type FieldError } from '../runbooks/dsl/params';
import type { LoadedRunbook, RunbookTrigger } from '../runbooks/dsl/types';
import type { RunbookRegistry } from '../runbooks/registry';
import { SEVERITIES, type NormalisedAlert, type Severity } from './alert';
import { triageSeverity } from './severity';

export interface NotifyRouting {
  /** SNS topic per severity; `default` for the rest. */
  topics: Partial<Record<Severity | 'default', string>>;
}

export type RouteDecision =
  | {
      kind: 'runbook';
      runbook: LoadedRunbook;
      triggerIndex: number;
      params: Record<string, unknown>;
      severity: Severity;
      severityReason: string;
    }
  | {
      kind: 'none';
      severity: Severity;
      severityReason: string;
      /** Why no runbook runs: no trigger matched, or a match whose params were invalid. */
      reason: string;
      fieldErrors?: FieldError[];
      runbookId?: string;
    };

/** The topic for a severity. */
export function topicFor(routing: NotifyRouting, severity: Severity): string | undefined {
  return routing.topics[severity] ?? routing.topics.default;
}

/** Glob with `*` and `?`, anchored, case-sensitive. */
export function globMatch(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(value);
}

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** Does the trigger accept the alert (at the given triaged severity)? */
export function triggerMatches(trigger: RunbookTrigger, alert: NormalisedAlert, severity: Severity): boolean {
  if (!trigger.sources.includes(alert.source)) return false;
  if (trigger.alarmNames && !trigger.alarmNames.some((p) => globMatch(p, alert.name))) return false;
  if (trigger.findingTypes && !trigger.findingTypes.some((p) => globMatch(p, alert.findingType))) return false;
  if (trigger.resourceTypes && !trigger.resourceTypes.some((p) => globMatch(p, alert.resource?.type))) return false;
  if (
    trigger.metrics &&
    !trigger.metrics.some(
      (m) =>
        (m.namespace === undefined || globMatch(m.namespace, alert.metric?.namespace)) &&
        (m.name === undefined || globMatch(m.name, alert.metric?.name)),
    )
  ) {
    return false;
  }
  if (trigger.minSeverity && rank(severity) > rank(trigger.minSeverity)) return false;
  return true;
}

export class AlertRouter {
  constructor(
    private readonly registry: RunbookRegistry,
    private readonly notify: NotifyRouting,
    /** Severity when neither the alert nor a matched runbook gives one. */
    private readonly defaultSeverity: Severity = 'SEV3',
  ) {}

  async route(alert: NormalisedAlert, incidentId: string): Promise<RouteDecision> {
    for (const runbook of this.registry.list()) {
      const triggers = runbook.definition.triggers ?? [];
      // The runbook's default severity is triage's fallback, so triage is per runbook.
      const triaged = triageSeverity(alert, runbook.definition.severity);
      for (const [index, trigger] of triggers.entries()) {
        if (!triggerMatches(trigger, alert, triaged.severity)) continue;
        const context = {
          alert,
          incident: { id: incidentId, severity: triaged.severity },
          notify: { topicArn: topicFor(this.notify, triaged.severity) },
        };
        const params = (await resolveValue(trigger.params, context)) as Record<string, unknown>;
        const checked = validateParams(runbook.definition.params, params);
        if (!checked.ok) {
          return {
            kind: 'none',
            severity: triaged.severity,
            severityReason: triaged.reason,
            runbookId: runbook.definition.id,
            reason: `runbook ${runbook.definition.id} matched (trigger ${index}) but the alert gave invalid params`,
            fieldErrors: checked.errors,
          };
        }
        return {
          kind: 'runbook',
          runbook,
          triggerIndex: index,
          params: checked.value,
          severity: triaged.severity,
          severityReason: triaged.reason,
        };
      }
    }
    const triaged = triageSeverity(alert, this.defaultSeverity);
    return {
      kind: 'none',
      severity: triaged.severity,
      severityReason: triaged.reason,
      reason: 'no runbook trigger matches this alert',
    };
  }
}
