/**
 * Load-time validation of runbook definitions: every error names the runbook and the step.
 */
import { durationMs as toMs } from './duration';
import { isActionName } from '../../activities/catalogue';
import { isFixedRole, ROLE_PERMISSIONS } from '../../api/permissions';
import { collectExpressions, ExpressionError, parseExpression, referencedNames } from './expressions';
import { compileParamsSchema } from './params';
import { ALERT_SOURCES } from '../../alerts/alert';
import {
  SEVERITIES,
  type ApprovalStep,
  type Duration,
  type RetryPolicy,
  type RunbookDefinition,
  type RunbookTrigger,
  type Step,
} from './types';

export interface ValidationIssue {
  runbookId: string;
  stepId?: string;
  /** Where in the definition, e.g. `steps[3].with.instanceId`. */
  path: string;
  code:
    | 'INVALID_ID'
    | 'INVALID_FIELD'
    | 'DUPLICATE_STEP_ID'
    | 'UNKNOWN_ACTION'
    | 'UNKNOWN_STEP_REFERENCE'
    | 'FORWARD_STEP_REFERENCE'
    | 'UNKNOWN_PARAM_REFERENCE'
    | 'INVALID_EXPRESSION'
    | 'ROLLBACK_ON_APPROVAL'
    | 'INVALID_PARAMS_SCHEMA'
    | 'INVALID_DURATION'
    | 'DUPLICATE_RUNBOOK_ID'
    | 'INVALID_TRIGGER'
    | 'INVALID_APPROVAL_POLICY';
  message: string;
}

export class RunbookValidationError extends Error {
  override readonly name = 'RunbookValidationError';
  readonly code = 'RUNBOOK_INVALID';
  constructor(readonly issues: ValidationIssue[]) {
    super(
      `invalid runbook definition:\n${issues
        .map((i) => `  - runbook ${i.runbookId}${i.stepId ? `, step ${i.stepId}` : ''} (${i.path}): ${i.message}`)
        .join('\n')}`,
    );
  }
}

const ID = /^[a-z][a-z0-9-]{0,62}$/;
const ARN = /^arn:aws[a-z-]*:sns:/;

/** Why a list of approver roles is unusable, or undefined. A fixed role that cannot decide approvals is a mistake. */
function rolesProblem(roles: unknown): string | undefined {
  if (!Array.isArray(roles) || roles.length === 0)
    return 'roles must be a non-empty list (omit it to allow any approver)';
  for (const role of roles) {
    if (typeof role !== 'string' || !ID.test(role)) return `role ${JSON.stringify(role)} must match ${ID}`;
    if (isFixedRole(role) && !(ROLE_PERMISSIONS[role] as readonly string[]).includes('approvals:decide')) {
      return `role "${role}" cannot decide approvals; name a gate role such as incident-commander`;
    }
  }
  return undefined;
}

/** Returns every problem of a definition (empty when valid). */
export function validateRunbook(def: RunbookDefinition): ValidationIssue[] {
  const runbookId = typeof def?.id === 'string' ? def.id : '<no id>';
  const issues: ValidationIssue[] = [];
  const add = (i: Omit<ValidationIssue, 'runbookId'>) => issues.push({ runbookId, ...i });

  if (!ID.test(runbookId)) add({ path: 'id', code: 'INVALID_ID', message: `id must match ${ID}` });
  for (const f of ['version', 'title', 'description', 'incidentType'] as const) {
    if (typeof def[f] !== 'string' || def[f].length === 0)
      add({ path: f, code: 'INVALID_FIELD', message: `${f} is required` });
  }
  if (!SEVERITIES.includes(def.severity)) {
    add({ path: 'severity', code: 'INVALID_FIELD', message: `severity must be one of ${SEVERITIES.join(', ')}` });
  }

  const paramNames = new Set<string>();
  try {
    if (!def.params || def.params.type !== 'object') throw new Error('params must be an object schema (Type.Object)');
    compileParamsSchema(def.params);
    Object.keys(def.params.properties ?? {}).forEach((p) => paramNames.add(p));
  } catch (err) {
    add({ path: 'params', code: 'INVALID_PARAMS_SCHEMA', message: `params schema invalid: ${(err as Error).message}` });
  }

  // Checked here, not when the steps have succeeded: a bad window would otherwise fail the workflow at its very end.
  durationIssue(def.rollbackWindow, 'rollbackWindow', false, add);
  durationIssue(def.rollbackRetryWindow, 'rollbackRetryWindow', false, add);
  durationIssue(def.rollbackRetry?.scheduleToClose, 'rollbackRetry.scheduleToClose', false, add);
  durationIssue(def.rollbackRetry?.retry?.initialInterval, 'rollbackRetry.retry.initialInterval', false, add);
  durationIssue(def.rollbackRetry?.retry?.maximumInterval, 'rollbackRetry.retry.maximumInterval', false, add);
  durationIssue(def.resource?.wait, 'resource.wait', false, add);

  if (!Array.isArray(def.steps) || def.steps.length === 0) {
    add({ path: 'steps', code: 'INVALID_FIELD', message: 'a runbook needs at least one step' });
    return issues;
  }

  const allIds = new Set(def.steps.map((s) => s?.id));
  const seen = new Set<string>();
  def.steps.forEach((step: Step, index) => {
    const at = `steps[${index}]`;
    const stepId = typeof step?.id === 'string' ? step.id : undefined;
    const addStep = (i: Omit<ValidationIssue, 'runbookId' | 'stepId'>) => add({ stepId, ...i });
    if (!stepId || !ID.test(stepId))
      addStep({ path: `${at}.id`, code: 'INVALID_ID', message: `step id must match ${ID}` });
    else if (seen.has(stepId))
      addStep({ path: `${at}.id`, code: 'DUPLICATE_STEP_ID', message: `duplicate step id "${stepId}"` });

    // Expressions may read params and the steps before this one (a rollback may also read its own step).
    const checkExpression = (source: string, path: string, allowSelf: boolean) => {
      let refs: string[];
      try {
        parseExpression(source);
        refs = referencedNames(source, 'steps');
      } catch (err) {
        const reason = err instanceof ExpressionError ? err.message : String(err);
        addStep({ path, code: 'INVALID_EXPRESSION', message: `invalid expression "${source}": ${reason}` });
        return;
      }
      for (const ref of refs) {
        if (!allIds.has(ref)) {
          addStep({
            path,
            code: 'UNKNOWN_STEP_REFERENCE',
            message: `expression "${source}" reads unknown step "${ref}"`,
          });
        } else if (!seen.has(ref) && !(allowSelf && ref === stepId)) {
          addStep({
            path,
            code: 'FORWARD_STEP_REFERENCE',
            message: `expression "${source}" reads step "${ref}", which does not run before this one`,
          });
        }
      }
      for (const p of referencedNames(source, 'params')) {
        if (paramNames.size > 0 && !paramNames.has(p)) {
          addStep({
            path,
            code: 'UNKNOWN_PARAM_REFERENCE',
            message: `expression "${source}" reads unknown param "${p}"`,
          });
        }
      }
    };
    const checkDuration = (d: Duration | undefined, path: string, required: boolean) =>
      durationIssue(d, path, required, addStep);
    const checkRetry = (retry: RetryPolicy | undefined, path: string) => {
      checkDuration(retry?.initialInterval, `${path}.initialInterval`, false);
      checkDuration(retry?.maximumInterval, `${path}.maximumInterval`, false);
    };

    if (step?.when !== undefined) checkExpression(step.when, `${at}.when`, false);

    switch (step?.kind) {
      case 'action': {
        if (!isActionName(step.action)) {
          addStep({ path: `${at}.action`, code: 'UNKNOWN_ACTION', message: `unknown action "${String(step.action)}"` });
        }
        for (const e of collectExpressions(step.with)) checkExpression(e.source, `${at}.with.${e.path}`, false);
        checkDuration(step.timeout, `${at}.timeout`, false);
        checkDuration(step.heartbeatTimeout, `${at}.heartbeatTimeout`, false);
        checkRetry(step.retry, `${at}.retry`);
        if (step.rollback) {
          if (!isActionName(step.rollback.action)) {
            addStep({
              path: `${at}.rollback.action`,
              code: 'UNKNOWN_ACTION',
              message: `unknown rollback action "${String(step.rollback.action)}"`,
            });
          }
          for (const e of collectExpressions(step.rollback.with)) {
            checkExpression(e.source, `${at}.rollback.with.${e.path}`, true);
          }
          checkDuration(step.rollback.timeout, `${at}.rollback.timeout`, false);
          checkRetry(step.rollback.retry, `${at}.rollback.retry`);
          checkDuration(step.rollback.scheduleToClose, `${at}.rollback.scheduleToClose`, false);
        }
        break;
      }
      case 'approval': {
        if ((step as { rollback?: unknown }).rollback !== undefined) {
          addStep({
            path: `${at}.rollback`,
            code: 'ROLLBACK_ON_APPROVAL',
            message: 'an approval step has nothing to roll back; put the rollback on the action it guards',
          });
        }
        if (!['reject', 'approve', 'fail'].includes(step.onTimeout)) {
          addStep({
            path: `${at}.onTimeout`,
            code: 'INVALID_FIELD',
            message: 'onTimeout must be reject, approve or fail',
          });
        }
        checkDuration(step.timeout, `${at}.timeout`, true);
        checkApprovalPolicy(step, at, addStep, (source, path) => checkExpression(source, path, false));
        break;
      }
      case 'wait': {
        if ((step as { rollback?: unknown }).rollback !== undefined) {
          addStep({ path: `${at}.rollback`, code: 'INVALID_FIELD', message: 'a wait step has nothing to roll back' });
        }
        if (typeof step.until !== 'string') {
          addStep({ path: `${at}.until`, code: 'INVALID_FIELD', message: 'a wait step needs an until condition' });
        } else {
          checkExpression(step.until, `${at}.until`, false);
        }
        if (!['fail', 'continue'].includes(step.onTimeout)) {
          addStep({ path: `${at}.onTimeout`, code: 'INVALID_FIELD', message: 'onTimeout must be fail or continue' });
        }
        checkDuration(step.timeout, `${at}.timeout`, true);
        break;
      }
      default:
        addStep({
          path: `${at}.kind`,
          code: 'INVALID_FIELD',
          message: `unknown step kind "${String((step as Step)?.kind)}"`,
        });
    }
    if (stepId) seen.add(stepId);
  });

  if (def.release !== undefined) {
    const problem = rolesProblem(def.release?.approvers?.roles);
    if (problem) add({ path: 'release.approvers.roles', code: 'INVALID_APPROVAL_POLICY', message: problem });
  }
  (def.triggers ?? []).forEach((trigger, index) => validateTrigger(trigger, `triggers[${index}]`, paramNames, add));
  if (def.resource && !paramNames.has(def.resource.param)) {
    add({
      path: 'resource.param',
      code: 'INVALID_FIELD',
      message: `resource param "${def.resource.param}" is not a param`,
    });
  }
  const original = def.resource?.original;
  if (original !== undefined && !def.steps.some((s) => s?.id === original && s.kind === 'action')) {
    add({
      path: 'resource.original',
      code: 'INVALID_FIELD',
      message: `resource original "${String(original)}" is not an action step`,
    });
  }
  return issues;
}

function durationMs(d: Duration | undefined): number | undefined {
  try {
    const ms = toMs(d as never);
    return ms > 0 ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** Approvers (roles, min), four-eyes opt-out and the escalation chain of one gate. */
function checkApprovalPolicy(
  step: ApprovalStep,
  at: string,
  addStep: (i: Omit<ValidationIssue, 'runbookId' | 'stepId'>) => void,
  checkExpression: (source: string, path: string) => void,
): void {
  const bad = (path: string, message: string) =>
    addStep({ path: `${at}${path}`, code: 'INVALID_APPROVAL_POLICY', message });
  const approvers = step.approvers;
  if (approvers?.roles !== undefined) {
    const problem = rolesProblem(approvers.roles);
    if (problem) bad('.approvers.roles', problem);
  }
  if (approvers?.min !== undefined && !(Number.isInteger(approvers.min) && approvers.min >= 1)) {
    bad('.approvers.min', `min must be an integer of at least 1, not ${JSON.stringify(approvers.min)}`);
  }
  if (step.allowSelfApproval !== undefined && typeof step.allowSelfApproval !== 'boolean') {
    bad('.allowSelfApproval', 'allowSelfApproval must be true or false');
  }
  if (step.escalation === undefined) return;
  if (!Array.isArray(step.escalation)) {
    bad('.escalation', 'escalation must be a list of tiers');
    return;
  }
  const timeoutMs = durationMs(step.timeout);
  let previous = 0;
  step.escalation.forEach((tier, i) => {
    const path = `.escalation[${i}]`;
    const after = durationMs(tier?.after);
    if (after === undefined) {
      bad(`${path}.after`, `invalid duration ${JSON.stringify(tier?.after)}`);
    } else if (after <= previous) {
      bad(`${path}.after`, 'tiers must come in increasing order of their delay');
    } else if (timeoutMs !== undefined && after >= timeoutMs) {
      bad(`${path}.after`, "a tier must fire before the gate's deadline");
    }
    if (after !== undefined) previous = Math.max(previous, after);
    const topic = tier?.topicArn;
    if (typeof topic === 'string') {
      if (!ARN.test(topic)) bad(`${path}.topicArn`, `topicArn must be an SNS topic ARN or an expression`);
    } else if (topic && typeof topic === 'object' && typeof topic.$expr === 'string') {
      checkExpression(topic.$expr, `${at}${path}.topicArn`);
    } else {
      bad(`${path}.topicArn`, 'topicArn is required: an SNS topic ARN or an expression');
    }
    if (tier?.message !== undefined && typeof tier.message !== 'string') {
      bad(`${path}.message`, 'message must be a string');
    }
  });
}

/** Adds an INVALID_DURATION issue unless `d` is a positive duration (or absent and optional). */
function durationIssue(
  d: Duration | undefined,
  path: string,
  required: boolean,
  add: (i: Omit<ValidationIssue, 'runbookId' | 'stepId'>) => void,
): void {
  if (d === undefined) {
    if (required) add({ path, code: 'INVALID_DURATION', message: 'a duration is required' });
    return;
  }
  let ms: number;
  try {
    ms = toMs(d as never);
  } catch {
    ms = NaN;
  }
  if (!(ms > 0) || !Number.isFinite(ms)) {
    add({ path, code: 'INVALID_DURATION', message: `invalid duration ${JSON.stringify(d)}` });
  }
}

function validateTrigger(
  trigger: RunbookTrigger,
  at: string,
  paramNames: Set<string>,
  add: (i: Omit<ValidationIssue, 'runbookId'>) => void,
): void {
  const bad = (path: string, message: string) => add({ path: `${at}${path}`, code: 'INVALID_TRIGGER', message });
  if (!Array.isArray(trigger.sources) || trigger.sources.length === 0)
    bad('.sources', 'a trigger needs at least one source');
  for (const source of trigger.sources ?? []) {
    if (!ALERT_SOURCES.includes(source))
      bad('.sources', `unknown alert source "${source}"; one of ${ALERT_SOURCES.join(', ')}`);
  }
  for (const key of ['alarmNames', 'findingTypes', 'resourceTypes'] as const) {
    const list = trigger[key];
    if (list !== undefined && (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || p.length === 0))) {
      bad(`.${key}`, `${key} must be a list of non-empty patterns`);
    }
  }
  if (trigger.minSeverity !== undefined && !SEVERITIES.includes(trigger.minSeverity)) {
    bad('.minSeverity', `minSeverity must be one of ${SEVERITIES.join(', ')}`);
  }
  if (!trigger.params || typeof trigger.params !== 'object') {
    bad('.params', 'a trigger must map alert fields to params');
    return;
  }
  for (const name of Object.keys(trigger.params)) {
    if (paramNames.size > 0 && !paramNames.has(name))
      bad(`.params.${name}`, `"${name}" is not a param of this runbook`);
  }
  for (const e of collectExpressions(trigger.params)) {
    const path = `${at}.params.${e.path}`;
    try {
      parseExpression(e.source);
    } catch (err) {
      add({ path, code: 'INVALID_EXPRESSION', message: `invalid expression "${e.source}": ${(err as Error).message}` });
      continue;
    }
    if (referencedNames(e.source, 'steps').length > 0 || referencedNames(e.source, 'params').length > 0) {
      add({
        path,
        code: 'INVALID_EXPRESSION',
        message: `trigger expression "${e.source}" may read only alert, incident and notify`,
      });
    }
  }
}

/** Validates and throws RunbookValidationError when anything is wrong. */
export function assertValidRunbook(def: RunbookDefinition): void {
  const issues = validateRunbook(def);
  if (issues.length > 0) throw new RunbookValidationError(issues);
}
