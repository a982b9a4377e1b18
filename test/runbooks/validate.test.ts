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

  describe('approval policy', () => {
    const gate = (extra: Record<string, unknown>) =>
      loose({ id: 'approve', kind: 'approval', title: 'Go?', timeout: '1h', onTimeout: 'reject', ...extra });
    const policyIssues = (def: RunbookDefinition) =>
      validateRunbook(def).map((i) => [i.path, i.code, i.message] as const);

    test('a full policy is valid: roles, min, four-eyes opt-out, escalation tiers, release roles', () => {
      const def = runbook(
        [
          capture,
          gate({
            approvers: { roles: ['incident-commander', 'security-lead'], min: 2 },
            allowSelfApproval: true,
            escalation: [
              { after: '15m', topicArn: expr('params.instanceId'), message: 'still waiting' },
              { after: '30m', topicArn: 'arn:aws:sns:us-east-1:111122223333:tier-2' },
            ],
          }),
        ],
        { release: { approvers: { roles: ['security-lead'] } } },
      );
      expect(validateRunbook(def)).toEqual([]);
    });

    test('approver roles: an empty list, a malformed role, a fixed role that cannot decide', () => {
      for (const [roles, message] of [
        [[], /non-empty list/],
        [['Incident Commander'], /must match/],
        [['viewer'], /"viewer" cannot decide approvals/],
        [['responder'], /"responder" cannot decide approvals/],
      ] as const) {
        const issues = policyIssues(runbook([capture, gate({ approvers: { roles } })]));
        expect(issues).toEqual([
          ['steps[1].approvers.roles', 'INVALID_APPROVAL_POLICY', expect.stringMatching(message)],
        ]);
      }
      expect(validateRunbook(runbook([capture, gate({ approvers: { roles: ['admin'] } })]))).toEqual([]);
    });

    test('approvers.min must be an integer of at least 1', () => {
      for (const min of [0, 1.5, -1, '2']) {
        expect(policyIssues(runbook([capture, gate({ approvers: { min } })]))).toEqual([
          ['steps[1].approvers.min', 'INVALID_APPROVAL_POLICY', expect.stringContaining('integer of at least 1')],
        ]);
      }
    });

    test('allowSelfApproval must be a boolean', () => {
      expect(policyIssues(runbook([capture, gate({ allowSelfApproval: 'yes' })]))).toEqual([
        ['steps[1].allowSelfApproval', 'INVALID_APPROVAL_POLICY', 'allowSelfApproval must be true or false'],
      ]);
    });

    test('escalation must be a list', () => {
      expect(policyIssues(runbook([capture, gate({ escalation: { after: '1m' } })]))).toEqual([
        ['steps[1].escalation', 'INVALID_APPROVAL_POLICY', 'escalation must be a list of tiers'],
      ]);
    });

    test('escalation delays: invalid, out of order, at or after the deadline', () => {
      const topicArn = 'arn:aws:sns:us-east-1:111122223333:t';
      const issues = policyIssues(
        runbook([
          capture,
          gate({
            escalation: [
              { after: 'soon', topicArn },
              { after: '20m', topicArn },
              { after: '10m', topicArn },
              { after: '1h', topicArn },
            ],
          }),
        ]),
      );
      expect(issues).toEqual([
        ['steps[1].escalation[0].after', 'INVALID_APPROVAL_POLICY', 'invalid duration "soon"'],
        [
          'steps[1].escalation[2].after',
          'INVALID_APPROVAL_POLICY',
          'tiers must come in increasing order of their delay',
        ],
        ['steps[1].escalation[3].after', 'INVALID_APPROVAL_POLICY', "a tier must fire before the gate's deadline"],
      ]);
    });

    test('escalation topics: missing, not an SNS ARN, an expression reading an unknown param', () => {
      const issues = policyIssues(
        runbook([
          capture,
          gate({
            escalation: [
              { after: '1m' },
              { after: '2m', topicArn: 'https://example.com/hook' },
              { after: '3m', topicArn: expr('params.escalationTopic') },
            ],
          }),
        ]),
      );
      expect(issues.map(([path, code]) => [path, code])).toEqual([
        ['steps[1].escalation[0].topicArn', 'INVALID_APPROVAL_POLICY'],
        ['steps[1].escalation[1].topicArn', 'INVALID_APPROVAL_POLICY'],
        ['steps[1].escalation[2].topicArn', 'UNKNOWN_PARAM_REFERENCE'],
      ]);
    });

    test('an escalation message must be a string', () => {
      const tier = { after: '1m', topicArn: 'arn:aws:sns:us-east-1:111122223333:t', message: { text: 'x' } };
      expect(policyIssues(runbook([capture, gate({ escalation: [tier] })]))).toEqual([
        ['steps[1].escalation[0].message', 'INVALID_APPROVAL_POLICY', 'message must be a string'],
      ]);
    });

    test('release roles: a non-empty list of roles that can decide', () => {
      for (const roles of [[], ['viewer'], undefined]) {
        const def = runbook([capture], { release: { approvers: { roles } } as never });
        expect(policyIssues(def).map(([path, code]) => [path, code])).toEqual([
          ['release.approvers.roles', 'INVALID_APPROVAL_POLICY'],
        ]);
      }
    });
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

  test("the resource's original must be an action step; its wait and the rollback retries are durations", () => {
    const gate: Step = { id: 'gate', kind: 'approval', title: 'Go?', timeout: '1m', onTimeout: 'reject' };
    const resource = { type: 'ec2:instance', param: 'instanceId' as const };
    const issues = validateRunbook(
      runbook([capture, gate], {
        resource: { ...resource, original: 'gate', wait: 'a while' as '1m' },
        rollbackRetry: { scheduleToClose: 'forever' as '1h' },
      }),
    );
    expect(issues.map((i) => [i.code, i.path])).toEqual([
      ['INVALID_DURATION', 'rollbackRetry.scheduleToClose'],
      ['INVALID_DURATION', 'resource.wait'],
      ['INVALID_FIELD', 'resource.original'],
    ]);
    expect(issues[2].message).toBe('resource original "gate" is not an action step');
    expect(
      validateRunbook(
        runbook([capture, gate], {
          resource: { ...resource, original: 'capture', wait: '5m' },
          rollbackRetry: { retry: { maximumAttempts: 0 }, scheduleToClose: '3h' },
        }),
      ),
    ).toEqual([]);
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
