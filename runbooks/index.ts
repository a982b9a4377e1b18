/** Every runbook firebreak ships; the registry validates them at load. */
import type { RunbookDefinition } from './dsl/types';
import { badDeployRollback } from './bad-deploy-rollback';
import { credentialExposureInstanceProfile } from './credential-exposure-instance-profile';
import { diskFull } from './disk-full';
import { ec2Compromise } from './ec2-compromise';
import { webAttackBlockIp } from './web-attack-block-ip';

export const runbooks: readonly RunbookDefinition<any>[] = [
  ec2Compromise,
  webAttackBlockIp,
  badDeployRollback,
  diskFull,
  credentialExposureInstanceProfile,
];
