import type { RefinementCtx } from 'zod';
import type { AssumeRoleConfig, RoleConfig, StaticRoleConfig } from './schema.ts';

const ROLE_CHAINING_MAX_SECONDS = 3_600;

/**
 * Checks across the keys of `roles` that a per-key schema cannot make: which of a pair of keys
 * is given, and where an assume-role source's credentials come from. Issues on secret keys
 * point at the role itself, so the error message never repeats a secret value.
 */
export function checkRoleSources(
  roles: Readonly<Record<string, RoleConfig>>,
  context: RefinementCtx,
): void {
  for (const [name, role] of Object.entries(roles)) {
    if (role.source === 'static') checkStaticKeys(name, role, context);
    if (role.source === 'assume-role') checkAssumeRole(name, role, roles, context);
  }
  checkRoleChains(roles, context);
}

function checkStaticKeys(name: string, role: StaticRoleConfig, context: RefinementCtx): void {
  const pairs = [
    ['accessKeyId', role.accessKeyId, role.accessKeyIdEnv, true],
    ['secretAccessKey', role.secretAccessKey, role.secretAccessKeyEnv, true],
    ['sessionToken', role.sessionToken, role.sessionTokenEnv, false],
  ] as const;

  for (const [key, value, envName, required] of pairs) {
    if (value !== undefined && envName !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['roles', name],
        message: `give ${key} or ${key}Env, not both`,
      });
    } else if (required && value === undefined && envName === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['roles', name],
        message: `${key} or ${key}Env is required`,
      });
    }
  }
}

function checkAssumeRole(
  name: string,
  role: AssumeRoleConfig,
  roles: Readonly<Record<string, RoleConfig>>,
  context: RefinementCtx,
): void {
  if (typeof role.sessionPolicy === 'string' && !isJsonObject(role.sessionPolicy)) {
    context.addIssue({
      code: 'custom',
      path: ['roles', name, 'sessionPolicy'],
      message: 'must be a JSON policy document',
    });
  }

  if (role.sourceRole === undefined) return;
  if (role.profile !== undefined) {
    context.addIssue({
      code: 'custom',
      path: ['roles', name, 'sourceRole'],
      message: 'give profile or sourceRole, not both',
    });
  }
  if (!(role.sourceRole in roles)) {
    context.addIssue({
      code: 'custom',
      path: ['roles', name, 'sourceRole'],
      message: `role "${role.sourceRole}" is not defined under roles`,
    });
  }
  // STS limits a session assumed with another role's session to one hour (role chaining).
  if (
    roles[role.sourceRole]?.source === 'assume-role' &&
    role.durationSeconds > ROLE_CHAINING_MAX_SECONDS
  ) {
    context.addIssue({
      code: 'custom',
      path: ['roles', name, 'durationSeconds'],
      message: `must be at most ${ROLE_CHAINING_MAX_SECONDS}: STS limits a chained role session to one hour`,
    });
  }
}

/** A role whose credentials are signed, in the end, by its own: reported once per cycle. */
function checkRoleChains(
  roles: Readonly<Record<string, RoleConfig>>,
  context: RefinementCtx,
): void {
  const reported = new Set<string>();

  for (const start of Object.keys(roles)) {
    const chain: string[] = [];
    let current: string | undefined = start;
    while (current !== undefined && !chain.includes(current)) {
      chain.push(current);
      current = sourceRoleOf(roles[current]);
    }

    if (current !== start || reported.has(start)) continue;
    chain.forEach((member) => reported.add(member));
    context.addIssue({
      code: 'custom',
      path: ['roles', start, 'sourceRole'],
      message: `role chain ${[...chain, start].join(' → ')} is a cycle: no role in it has credentials of its own`,
    });
  }
}

function sourceRoleOf(role: RoleConfig | undefined): string | undefined {
  return role?.source === 'assume-role' ? role.sourceRole : undefined;
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
