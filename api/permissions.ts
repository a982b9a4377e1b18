/**
 * Who may do what: the permissions routes declare (`config: { permission }`) and the roles that grant them. This table
 * is the one the README documents; a test checks the two agree.
 */
import type { Principal } from '../workflows/messages';

/** Every permission a route may declare. `public` and `alerts:ingest` need no bearer credential. */
export const PERMISSIONS = [
  'public',
  'alerts:ingest',
  'runbooks:read',
  'executions:read',
  'executions:start',
  'executions:rollback',
  'executions:release',
  'approvals:read',
  'approvals:decide',
  'incidents:read',
  'incidents:write',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Permissions that do not go through the bearer check: the route authenticates its sender itself, or nobody. */
export const UNAUTHENTICATED: readonly Permission[] = ['public', 'alerts:ingest'];

const READ: Permission[] = ['runbooks:read', 'executions:read', 'approvals:read', 'incidents:read'];

/** The fixed roles. Any other role a principal holds is a gate role (see {@link permissionsOf}). */
export const ROLE_PERMISSIONS = {
  viewer: READ,
  responder: [...READ, 'executions:start', 'executions:rollback', 'incidents:write'],
  admin: PERMISSIONS.filter((p) => !UNAUTHENTICATED.includes(p)),
} as const satisfies Record<string, readonly Permission[]>;
export type FixedRole = keyof typeof ROLE_PERMISSIONS;

/**
 * A gate role (`incident-commander`, `security-lead`, …) is named by runbooks' approval gates and release policies. It
 * lets its holder read, and reach the decision routes; whether this principal may decide this gate or release this
 * execution is the workflow's call, from the roles the runbook names.
 */
export const GATE_ROLE_PERMISSIONS: readonly Permission[] = [
  ...READ,
  'approvals:decide',
  'executions:rollback',
  'executions:release',
];

/** The role that stands for every role (admin, and the local `none` mode). */
export const ALL_ROLES = '*';

export function isFixedRole(role: string): role is FixedRole {
  return Object.prototype.hasOwnProperty.call(ROLE_PERMISSIONS, role);
}

/** Everything a principal's roles grant. */
export function permissionsOf(principal: Principal): Set<Permission> {
  const out = new Set<Permission>();
  for (const role of principal.roles ?? []) {
    const granted: readonly Permission[] =
      role === ALL_ROLES ? ROLE_PERMISSIONS.admin : isFixedRole(role) ? ROLE_PERMISSIONS[role] : GATE_ROLE_PERMISSIONS;
    for (const p of granted) out.add(p);
  }
  return out;
}

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}
