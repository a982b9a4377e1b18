/**
 * All activities, keyed by action name: what the worker registers.
 */
import type { AwsClients } from './clients';
import { createEc2Activities, type Ec2Activities } from './ec2';
import type { ActionActivities, ActionName } from './schemas';
import { createSnsActivities, type SnsActivities } from './sns';
import { createSsmActivities, type SsmActivities, type SsmActivityOptions } from './ssm';

export { createAwsClients, destroyAwsClients, type AwsClients, type AwsClientOptions } from './clients';
export { awsCall, classifyAwsError, describeAwsError } from './errors';

export interface ActivityOptions {
  ssm?: SsmActivityOptions;
}

/**
 * Creates every activity on the given clients.
 *
 * @returns one function per action in the catalogue, named as the action
 */
export function createActivities(clients: AwsClients, opts: ActivityOptions = {}): ActionActivities {
  return {
    ...createEc2Activities(clients),
    ...createSnsActivities(clients),
    ...createSsmActivities(clients, opts.ssm),
  };
}

// Compile-time checks that the modules cover every action and nothing else: adding an action to schemas.ts without
// an activity (or the reverse) fails the type check here, not at run time in a worker.
type Provided = keyof Ec2Activities | keyof SnsActivities | keyof SsmActivities;
type Missing = Exclude<ActionName, Provided>;
type Extra = Exclude<Provided, ActionName>;
const everyActionCovered: [Missing, Extra] extends [never, never] ? true : { missing: Missing; extra: Extra } = true;
void everyActionCovered;
