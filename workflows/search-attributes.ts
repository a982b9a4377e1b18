/**
 * Typed search attributes firebreak writes. The dev server registers them at start (`--search-attribute`); a
 * production namespace needs them created once (`temporal operator search-attribute create`).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SA = {
  runbookId: defineSearchAttributeKey('FirebreakRunbookId', SearchAttributeType.KEYWORD),
  digest: defineSearchAttributeKey('FirebreakDigest', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('FirebreakStatus', SearchAttributeType.KEYWORD),
  severity: defineSearchAttributeKey('FirebreakSeverity', SearchAttributeType.KEYWORD),
  resource: defineSearchAttributeKey('FirebreakResource', SearchAttributeType.KEYWORD),
  incidentType: defineSearchAttributeKey('FirebreakIncidentType', SearchAttributeType.KEYWORD),
  kind: defineSearchAttributeKey('FirebreakKind', SearchAttributeType.KEYWORD),
  /** Who started an execution (`user:<name>`, `alert:<fingerprint>`): search by principal. Set at start. */
  startedBy: defineSearchAttributeKey('FirebreakStartedBy', SearchAttributeType.KEYWORD),
  /** The drill an execution belongs to; unset for real ones (metrics count only those). */
  drill: defineSearchAttributeKey('FirebreakDrill', SearchAttributeType.KEYWORD),
} as const;

/** `--search-attribute NAME=Keyword` flags for `temporal server start-dev`. */
export function searchAttributeFlags(): string[] {
  return Object.values(SA).flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]);
}
