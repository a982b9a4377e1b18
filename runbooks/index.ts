/** Every runbook firebreak ships; the registry validates them at load. */
import type { RunbookDefinition } from './dsl/types';
import { ec2Compromise } from './ec2-compromise';

export const runbooks: readonly RunbookDefinition<any>[] = [ec2Compromise];
