import { Type } from '@sinclair/typebox';
import { runbooks } from '../../runbooks';
import { expr, type RunbookDefinition, type Step } from '../../runbooks/dsl/types';
import { RunbookValidationError, validateRunbook } from '../../runbooks/dsl/validate';
import { RunbookRegistry } from '../../runbooks/registry';

function runbook(steps: Step[], overrides: Partial<RunbookDefinition> = {}): RunbookDefinition {
  const base: RunbookDefinition = {
    id: 'test-runbook',
    version: '1.0.0',
    title: 'Test',
    description: 'A runbook for validation tests',
    incidentType: 'test',
    severity: 'SEV3',
    params: Type.Object({ instanceId: Type.String() }),
    steps,
  };
  return { ...base, ...overrides };
}

const capture: Step = {
  id: 'capture',
  kind: 'action',
  action: 'ec2.captureInstance',
  with: { instanceId: expr('params.instanceId') },
};

/** Untyped escape hatch: these definitions are wrong on purpose, as a hand-edited or generated file could be. */
const loose = (s: unknown) => s as Step;

function codes(def: RunbookDefinition) {
  return validateRunbook(def).map((i) => ({ code: i.code, stepId: i.stepId }));
}

describe('runbook validation at load', () => {
  test('every shipped runbook is valid', () => {
    for (const def of runbooks) expect(validateRunbook(def)).toEqual([]);
    expect(() => new RunbookRegistry(runbooks)).not.toThrow();
  });

  test('unknown action', () => {
    expect(codes(runbook([capture, loose({ id: 'boom', kind: 'action', action: 'ec2.explode', with: {} })]))).toEqual([
      { code: 'UNKNOWN_ACTION', stepId: 'boom' },
    ]);
  });

  test('duplicate step id', () => {
    expect(codes(runbook([capture, { ...capture }]))).toEqual([{ code: 'DUPLICATE_STEP_ID', stepId: 'capture' }]);
  });

  test('reference to an unknown step', () => {
    const step: Step = {
      id: 'tag',
      kind: 'action',
      action: 'ec2.tagInstance',
      with: { instanceId: expr('steps.nothere.output.instanceId'), tags: { a: 'b' } },
    };
    expect(codes(runbook([capture, step]))).toEqual([{ code: 'UNKNOWN_STEP_REFERENCE', stepId: 'tag' }]);
  });

  test('reference to a later step', () => {
    const early: Step = {
      id: 'tag',
      kind: 'action',
      action: 'ec2.tagInstance',
      with: { instanceId: expr('steps.capture.output.instanceId'), tags: { a: 'b' } },
    };
    const issues = validateRunbook(runbook([early, capture]));
    expect(issues.map((i) => i.code)).toEqual(['FORWARD_STEP_REFERENCE']);
    expect(issues[0].message).toContain('"capture"');
    expect(issues[0].path).toBe('steps[0].with.instanceId');
  });

  test('a step may not read itself, but its rollback may', () => {
    const self: Step = {
      id: 'protect',
      kind: 'action',
      action: 'ec2.setTerminationProtection',
      with: { instanceId: expr('params.instanceId'), enabled: expr('steps.protect.output.previous') },
    };
    expect(codes(runbook([self]))).toEqual([{ code: 'FORWARD_STEP_REFERENCE', stepId: 'protect' }]);
    const withRollback: Step = {
      id: 'protect',
      kind: 'action',
      action: 'ec2.setTerminationProtection',
      with: { instanceId: expr('params.instanceId'), enabled: true },
      rollback: {
        action: 'ec2.setTerminationProtection',
        with: { instanceId: expr('params.instanceId'), enabled: expr('steps.protect.output.previous') },
      },
    };
    expect(codes(runbook([withRollback]))).toEqual([]);
  });

  test('invalid expression', () => {
    const bad: Step = {
      id: 'capture',
      kind: 'action',
      action: 'ec2.captureInstance',
      with: { instanceId: expr('params.(') },
    };
    const issues = validateRunbook(runbook([bad]));
    expect(issues.map((i) => i.code)).toEqual(['INVALID_EXPRESSION']);
    expect(issues[0].message).toMatch(/invalid expression "params\.\("/);
  });

  test('invalid when condition', () => {
    expect(codes(runbook([{ ...capture, when: '$$$ = =' } as Step]))).toEqual([
      { code: 'INVALID_EXPRESSION', stepId: 'capture' },
    ]);
  });

  test('reference to an unknown param', () => {
    const step: Step = {
      id: 'capture',
      kind: 'action',
      action: 'ec2.captureInstance',
      with: { instanceId: expr('params.instance') },
    };
    expect(codes(runbook([step]))).toEqual([{ code: 'UNKNOWN_PARAM_REFERENCE', stepId: 'capture' }]);
  });

  test('rollback on an approval step', () => {
    const gate = loose({
      id: 'approve',
      kind: 'approval',
      title: 'Go?',
      timeout: '1h',
      onTimeout: 'reject',
      rollback: { action: 'ec2.tagInstance', with: {} },
    });
    expect(codes(runbook([capture, gate]))).toEqual([{ code: 'ROLLBACK_ON_APPROVAL', stepId: 'approve' }]);
  });

  test('invalid params schema', () => {
    const issues = validateRunbook(
      runbook([capture], { params: { type: 'object', properties: { x: { type: 'nope' } } } as never }),
    );
    expect(issues.map((i) => i.code)).toEqual(['INVALID_PARAMS_SCHEMA']);
    expect(validateRunbook(runbook([capture], { params: Type.String() as never })).map((i) => i.code)).toEqual([
      'INVALID_PARAMS_SCHEMA',
    ]);
  });

  test('invalid durations and onTimeout', () => {
    const gate = loose({ id: 'approve', kind: 'approval', title: 'Go?', timeout: 'soon', onTimeout: 'maybe' });
    expect(
      codes(runbook([capture, gate]))
        .map((c) => c.code)
        .sort(),
    ).toEqual(['INVALID_DURATION', 'INVALID_FIELD']);
  });

  test('triggers: unknown source, a param the runbook lacks, an expression reading steps, a bad minSeverity', () => {
    const issues = validateRunbook(
      runbook([capture], {
        triggers: [
          { sources: ['pagerduty' as never], params: { instanceId: expr('alert.resource.id') } },
          { sources: ['guardduty'], params: { instance: expr('alert.resource.id') } as never },
          { sources: ['guardduty'], params: { instanceId: expr('steps.capture.output.instanceId') } },
          { sources: ['cloudwatch'], minSeverity: 'SEV9' as never, params: { instanceId: expr('alert.resource.id') } },
        ],
      }),
    );
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      ['triggers[0].sources', 'INVALID_TRIGGER'],
      ['triggers[1].params.instance', 'INVALID_TRIGGER'],
      ['triggers[2].params.instanceId', 'INVALID_EXPRESSION'],
      ['triggers[3].minSeverity', 'INVALID_TRIGGER'],
    ]);
  });

  test('wait steps need a valid until condition, a timeout and onTimeout fail or continue', () => {
    const wait = loose({
      id: 'verify',
      kind: 'wait',
      title: 'Cleared?',
      until: "steps.later.status = 'x'",
      onTimeout: 'retry',
    });
    const later: Step = { ...capture, id: 'later' };
    expect(
      codes(runbook([capture, wait, later]))
        .map((c) => c.code)
        .sort(),
    ).toEqual(['FORWARD_STEP_REFERENCE', 'INVALID_DURATION', 'INVALID_FIELD']);
  });

  test('every duration is checked at load: rollbackWindow, heartbeat timeouts, retry intervals', () => {
    const step = {
      ...capture,
      heartbeatTimeout: 'often',
      retry: { initialInterval: 0, maximumInterval: '1 fortnight' },
    } as unknown as Step;
    const issues = validateRunbook(runbook([step], { rollbackWindow: 'a week' as '7d' }));
    expect(issues.map((i) => [i.code, i.path, i.stepId])).toEqual([
      ['INVALID_DURATION', 'rollbackWindow', undefined],
      ['INVALID_DURATION', 'steps[0].heartbeatTimeout', 'capture'],
      ['INVALID_DURATION', 'steps[0].retry.initialInterval', 'capture'],
      ['INVALID_DURATION', 'steps[0].retry.maximumInterval', 'capture'],
    ]);
    expect(issues[0].message).toBe('invalid duration "a week"');
    // The registry refuses it at load, naming the runbook.
    expect(() => new RunbookRegistry([runbook([capture], { rollbackWindow: 'a week' as '7d' })])).toThrow(
      /runbook test-runbook \(rollbackWindow\): invalid duration "a week"/,
    );
    expect(validateRunbook(runbook([capture], { rollbackWindow: '7d' }))).toEqual([]);
  });

  test('the registry names the runbook and step in one error listing every problem', () => {
    const a = runbook([capture, { ...capture }], { id: 'first' });
    const b = runbook([loose({ id: 'x', kind: 'action', action: 'nope', with: {} })], { id: 'second' });
    let error: unknown;
    try {
      new RunbookRegistry([a, b, b]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RunbookValidationError);
    const e = error as RunbookValidationError;
    expect(e.issues.map((i) => `${i.runbookId}/${i.stepId ?? ''}/${i.code}`)).toEqual([
      'first/capture/DUPLICATE_STEP_ID',
      'second/x/UNKNOWN_ACTION',
      'second/x/UNKNOWN_ACTION',
      'second//DUPLICATE_RUNBOOK_ID',
    ]);
    expect(e.message).toContain('runbook first, step capture');
  });

  test('the digest is stable under key order and changes with content', () => {
    const r1 = new RunbookRegistry([runbook([capture])]).get('test-runbook')!;
    const reordered = { ...runbook([capture]) };
    const r2 = new RunbookRegistry([
      Object.fromEntries(Object.entries(reordered).reverse()) as unknown as RunbookDefinition,
    ]).get('test-runbook')!;
    const r3 = new RunbookRegistry([runbook([capture], { version: '1.0.1' })]).get('test-runbook')!;
    expect(r1.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r2.digest).toBe(r1.digest);
    expect(r3.digest).not.toBe(r1.digest);
  });
});
