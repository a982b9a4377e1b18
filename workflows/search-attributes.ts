/**
 * Typed search attributes firebreak writes. The dev server registers them at start (`--search-attribute`); a
 * production namespace needs them created once (`temporal operator search-attribute create`).
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

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
  /**
   * The AWS account and region an execution acts in (its target; the worker's own when resolved at start). Keyword
   * lists of one value: SQL visibility (the dev server's SQLite too) allows at most 10 Keyword attributes per
   * namespace, and `=` matches a list's element just as it matches a keyword.
   */
  account: defineSearchAttributeKey('FirebreakAccount', SearchAttributeType.KEYWORD_LIST),
  region: defineSearchAttributeKey('FirebreakRegion', SearchAttributeType.KEYWORD_LIST),
} as const;

/** The type's name as `temporal` flags and `temporal operator search-attribute create --type` spell it. */
const TYPE_NAMES: Partial<Record<SearchAttributeType, string>> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

export function searchAttributeTypeName(key: { type: SearchAttributeType }): string {
  return TYPE_NAMES[key.type]!;
}

/** `--search-attribute NAME=Type` flags for `temporal server start-dev`. */
export function searchAttributeFlags(): string[] {
  return Object.values(SA).flatMap((k) => ['--search-attribute', `${k.name}=${searchAttributeTypeName(k)}`]);
}

/** The target's account and region as search attributes: only those it names. */
export function targetAttributes(target: { account?: string; region?: string } | undefined): SearchAttributePair[] {
  return [
    ...(target?.account ? [{ key: SA.account, value: [target.account] }] : []),
    ...(target?.region ? [{ key: SA.region, value: [target.region] }] : []),
  ];
}

/** Histories from before the target's attributes replay without their upsert (samples-typescript `patching-api`). */
export const PATCH_TARGET_ATTRIBUTES = 'target-search-attributes';
