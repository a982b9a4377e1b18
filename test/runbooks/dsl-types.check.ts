/**
 * Compile-time checks of the DSL's typing, enforced by `tsc --noEmit` (part of .ci/run): each @ts-expect-error must
 * meet an error, or the compiler fails. Not a jest test: it asserts types, which exist only at compile time.
 */
import { Type } from '@sinclair/typebox';
import { defineRunbook, expr } from '../../runbooks/dsl/types';

export const checks = defineRunbook({
  id: 'type-checks',
  version: '1',
  title: 't',
  description: 'd',
  incidentType: 'x',
  severity: 'SEV4',
  params: Type.Object({}),
  steps: [
    // A literal of the wrong type in a with block is an error…
    // @ts-expect-error enabled must be a boolean
    { id: 'a', kind: 'action', action: 'ec2.setTerminationProtection', with: { instanceId: 'i-0123456789abcdef0', enabled: 'yes' } },
    // …an expression is accepted in its place.
    { id: 'b', kind: 'action', action: 'ec2.setTerminationProtection', with: { instanceId: 'i-0123456789abcdef0', enabled: expr('true') } },
    // @ts-expect-error tag values are strings
    { id: 'c', kind: 'action', action: 'ec2.tagInstance', with: { instanceId: 'i-0123456789abcdef0', tags: { a: 1 } } },
    // @ts-expect-error unknown action
    { id: 'd', kind: 'action', action: 'ec2.explode', with: {} },
    // @ts-expect-error a required input is missing
    { id: 'e', kind: 'action', action: 'ec2.captureInstance', with: {} },
    // @ts-expect-error durations use the ms format
    { id: 'f', kind: 'approval', title: 'Go?', timeout: 'soonish', onTimeout: 'reject' },
  ],
});
