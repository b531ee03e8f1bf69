import type { ApiCaller } from './apiCaller.ts';
import { Ec2ApiError } from './ec2ApiError.ts';
import { CONDITION_KEYS } from './policy/conditionKeys.ts';
import { evaluatePolicy } from './policy/evaluatePolicy.ts';

export interface PermissionCheck {
  /** `ec2:ModifyInstanceMetadataOptions` */
  action: string;
  resource: string;
  /** Condition keys of the request and its resource, by lower-case name; undefined ones are absent. */
  keys: Readonly<Record<string, string | undefined>>;
  /** The region the request was signed for (`aws:RequestedRegion`). */
  signingRegion: string;
}

/**
 * Lets administrators do everything, and a role what its policy allows; otherwise throws
 * EC2's UnauthorizedOperation. The message says why in plain text, in IAM's current wording,
 * without EC2's encoded authorization message (there is no STS to decode it).
 */
export function authorizeCaller(caller: ApiCaller, check: PermissionCheck): void {
  if (caller.kind === 'administrator') return;

  const context = new Map<string, string>();
  for (const [key, value] of Object.entries(check.keys)) {
    if (value !== undefined) context.set(key, value);
  }
  context.set(CONDITION_KEYS.requestedRegion, check.signingRegion);
  context.set(CONDITION_KEYS.sourceInstanceArn, caller.sourceInstanceArn);
  // ec2:RoleDelivery is 1.0 for credentials fetched by IMDSv1, 2.0 by IMDSv2 (reference §3).
  context.set(CONDITION_KEYS.roleDelivery, caller.claims.delivery === 'imdsv2' ? '2.0' : '1.0');

  const decision = evaluatePolicy(caller.policy, {
    action: check.action,
    resource: check.resource,
    context,
  });
  if (decision.effect === 'allow') return;

  const subject = `User: ${caller.principal} is not authorized to perform: ${check.action} on resource: ${check.resource}`;
  const reason = decision.explicit
    ? `with an explicit deny in an identity-based policy (role ${caller.roleName}, statement ${decision.statement})`
    : caller.policy === undefined
      ? `because role ${caller.roleName} has no policy (a role without one may do nothing)`
      : `because no identity-based policy allows the ${check.action} action`;
  throw new Ec2ApiError(
    'UnauthorizedOperation',
    `You are not authorized to perform this operation. ${subject} ${reason}`,
  );
}
