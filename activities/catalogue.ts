/**
 * The action catalogue: what each action does and which action undoes it. Pure data, safe for the DSL and the API.
 */
import { ActionSchemas, type ActionName } from './schemas';

export interface ActionInfo {
  name: ActionName;
  description: string;
  /** AWS service (one activities module per service). */
  service: 'ec2' | 'sns' | 'ssm';
  /** The action that compensates this one, when there is one; runbooks name it in their `rollback` block. */
  rollback?: ActionName;
  /** True when the action changes AWS state (and so should be covered by a rollback or be harmless to leave). */
  mutating: boolean;
}

export const ActionCatalogue: { readonly [A in ActionName]: ActionInfo & { name: A } } = {
  'ec2.captureInstance': {
    name: 'ec2.captureInstance',
    service: 'ec2',
    mutating: false,
    description:
      'Describe an instance: state, VPC, ENIs with their security groups, volumes, tags, termination protection.',
  },
  'ec2.isolateInstance': {
    name: 'ec2.isolateInstance',
    service: 'ec2',
    mutating: true,
    rollback: 'ec2.restoreSecurityGroups',
    description:
      'Create or find the quarantine security group of the instance VPC (no ingress, no egress) and move every ENI to it.',
  },
  'ec2.restoreSecurityGroups': {
    name: 'ec2.restoreSecurityGroups',
    service: 'ec2',
    mutating: true,
    description: 'Put the given security groups back on each ENI of the instance.',
  },
  'ec2.setTerminationProtection': {
    name: 'ec2.setTerminationProtection',
    service: 'ec2',
    mutating: true,
    rollback: 'ec2.setTerminationProtection',
    description: 'Enable or disable API termination protection; reports the previous value for rollback.',
  },
  'ec2.snapshotVolumes': {
    name: 'ec2.snapshotVolumes',
    service: 'ec2',
    mutating: true,
    description: 'Snapshot every attached EBS volume with evidence tags (execution, step, time, source volume).',
  },
  'ec2.tagInstance': {
    name: 'ec2.tagInstance',
    service: 'ec2',
    mutating: true,
    rollback: 'ec2.tagInstance',
    description: 'Add or overwrite tags on the instance.',
  },
  'sns.publish': {
    name: 'sns.publish',
    service: 'sns',
    mutating: false,
    description: 'Publish a notification (subject plus a JSON body with the execution context) to an SNS topic.',
  },
  'ssm.runCommand': {
    name: 'ssm.runCommand',
    service: 'ssm',
    mutating: true,
    description: 'Send an SSM command to the instance and wait for its invocation result, heartbeating while waiting.',
  },
};

export const actionNames = Object.keys(ActionSchemas) as ActionName[];

export function isActionName(name: string): name is ActionName {
  return Object.prototype.hasOwnProperty.call(ActionSchemas, name);
}
