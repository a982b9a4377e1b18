/**
 * The engine's activity that archives a closed incident occurrence's evidence into the evidence store
 * (forensics/archive.ts). Not a catalogue action: runbooks never name it. Idempotent: a retry finds the bundle there.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  archiveIncident,
  EvidenceMismatchError,
  NotClosedYetError,
  type ArchiveRequest,
  type ArchiveResult,
} from '../forensics/archive';

export interface ArchiveActivities {
  'evidence.archiveIncident'(input: ArchiveRequest): Promise<ArchiveResult>;
}

export function createArchiveActivities(evidenceDir: string): ArchiveActivities {
  return {
    async 'evidence.archiveIncident'(input) {
      try {
        return await archiveIncident(Context.current().client, evidenceDir, input);
      } catch (err) {
        // Still running: retried by the policy until it closes. A tampered bundle: stop and let a human look.
        if (err instanceof NotClosedYetError) throw ApplicationFailure.retryable(err.message, err.name);
        if (err instanceof EvidenceMismatchError) throw ApplicationFailure.nonRetryable(err.message, err.name);
        throw err;
      }
    },
  };
}
