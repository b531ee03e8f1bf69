import type { ConfigInput } from './schema.ts';

/**
 * What `imdsd serve` emulates when the config names no instance: one instance with an
 * instance profile, a key pair and a minted role, so every SDK's credential chain works at once.
 */
export const DEFAULT_INSTANCE_ID = 'i-0123456789abcdef0';
export const DEFAULT_ROLE_NAME = 'imdsd-instance-role';

export function withDefaultInstance(input: Record<string, unknown>): Record<string, unknown> {
  if (input['instances'] !== undefined) return input;

  const roles = (input['roles'] ?? {}) as NonNullable<ConfigInput['roles']>;
  const defaults: ConfigInput = {
    instances: [
      {
        instanceId: DEFAULT_INSTANCE_ID,
        keyName: 'imdsd-key',
        iamRole: DEFAULT_ROLE_NAME,
        tags: { Name: 'imdsd' },
      },
    ],
    roles: { [DEFAULT_ROLE_NAME]: { source: 'minted' }, ...roles },
  };
  return { ...input, ...defaults };
}
