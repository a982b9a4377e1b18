/**
 * All activities, keyed by action name: what the worker registers.
 */
import { createAutoScalingActivities, type AutoScalingActivities } from './autoscaling';
import type { ClientSource } from './clients';
import { createCloudWatchActivities, type CloudWatchActivities } from './cloudwatch';
import { createEc2Activities, type Ec2Activities } from './ec2';
import { createElbv2Activities, type Elbv2Activities } from './elbv2';
import type { ActionActivities, ActionName } from './schemas';
import { createSnsActivities, type SnsActivities } from './sns';
import { createSsmActivities, type SsmActivities, type SsmActivityOptions } from './ssm';
import { createWafv2Activities, type Wafv2Activities } from './wafv2';

export {
  createAwsClients,
  createClientFactory,
  destroyAwsClients,
  type AwsClients,
  type AwsClientOptions,
  type ClientFactory,
  type ClientSource,
} from './clients';
export { awsCall, classifyAwsError, describeAwsError } from './errors';

export interface ActivityOptions {
  ssm?: SsmActivityOptions;
}

/**
 * Creates every activity.
 *
 * @param source fixed clients, or the factory that gives each step the clients of its target account and region
 * @returns one function per action in the catalogue, named as the action
 */
export function createActivities(source: ClientSource, opts: ActivityOptions = {}): ActionActivities {
  return {
    ...createEc2Activities(source),
    ...createSnsActivities(source),
    ...createSsmActivities(source, opts.ssm),
    ...createAutoScalingActivities(source),
    ...createElbv2Activities(source),
    ...createWafv2Activities(source),
    ...createCloudWatchActivities(source),
  };
}

// Compile-time checks that the modules cover every action and nothing else: adding an action to schemas.ts without
// an activity (or the reverse) fails the type check here, not at run time in a worker.
type Provided =
  | keyof Ec2Activities
  | keyof SnsActivities
  | keyof SsmActivities
  | keyof AutoScalingActivities
  | keyof Elbv2Activities
  | keyof Wafv2Activities
  | keyof CloudWatchActivities;
type Missing = Exclude<ActionName, Provided>;
type Extra = Exclude<Provided, ActionName>;
const everyActionCovered: [Missing, Extra] extends [never, never] ? true : { missing: Missing; extra: Extra } = true;
void everyActionCovered;
