/**
 * Archives a closed incident occurrence's evidence (activities/archive.ts). The incident starts it as it closes, as a
 * child it abandons: the incident's own history is complete only once it has closed, and its runbook execution may
 * outlive it (a rollback window), so the archive waits for both through its activity's retry policy.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { ArchiveActivities } from '../activities/archive';
import type { ArchiveRequest, ArchiveResult } from '../forensics/archive';

export const ARCHIVE_WORKFLOW = 'archiveWorkflow';

const { 'evidence.archiveIncident': archiveIncident } = proxyActivities<ArchiveActivities>({
  startToCloseTimeout: '5m',
  // Until the incident and its runbook execution have closed (NotClosedYet), and through a store that is down.
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10m' },
});

/** The workflow ID of an occurrence's archive: one per occurrence, so a second start is refused. */
export function archiveWorkflowId(incidentId: string, occurrence: string): string {
  return `${incidentId}-archive-${occurrence}`;
}

export async function archiveWorkflow(input: ArchiveRequest): Promise<ArchiveResult> {
  return await archiveIncident(input);
}
