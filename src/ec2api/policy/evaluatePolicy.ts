import { CONDITION_OPERATORS, NULL_OPERATOR } from './conditionOperators.ts';
import type {
  PatternList,
  PolicyCondition,
  PolicyDocument,
  PolicyStatement,
} from './policyDocument.ts';
import { matchesWildcard } from './wildcardPattern.ts';

/** One request as IAM sees it: what is done, to what, and the condition keys it carries. */
export interface AuthorizationRequest {
  /** `ec2:ModifyInstanceMetadataOptions` */
  action: string;
  /** The resource ARN, or `*` for actions without resource-level permissions (Describe*). */
  resource: string;
  /** Condition keys present in the request, by lower-case name. */
  context: ReadonlyMap<string, string>;
}

export type PolicyDecision =
  | { effect: 'allow'; statement: string }
  | { effect: 'deny'; explicit: true; statement: string }
  | { effect: 'deny'; explicit: false };

/**
 * IAM's evaluation logic for one identity policy (IAM User Guide, "Policy evaluation logic"):
 * an explicit Deny in any matching statement wins; else an Allow in any matching statement
 * allows; else the request is denied implicitly. No policy at all allows nothing, as an EC2
 * instance role with no permissions policy attached.
 */
export function evaluatePolicy(
  policy: PolicyDocument | undefined,
  request: AuthorizationRequest,
): PolicyDecision {
  const matching = (policy?.statements ?? []).filter((statement) =>
    statementApplies(statement, request),
  );

  const deny = matching.find((statement) => statement.effect === 'Deny');
  if (deny !== undefined) return { effect: 'deny', explicit: true, statement: deny.label };

  const allow = matching.find((statement) => statement.effect === 'Allow');
  if (allow !== undefined) return { effect: 'allow', statement: allow.label };

  return { effect: 'deny', explicit: false };
}

function statementApplies(statement: PolicyStatement, request: AuthorizationRequest): boolean {
  return (
    matchesPatterns(statement.actions, request.action, true) &&
    matchesPatterns(statement.resources, request.resource, false) &&
    statement.conditions.every((condition) => conditionHolds(condition, request.context))
  );
}

/** Action names compare without case (IAM: "Action" element); ARNs with case. */
function matchesPatterns(list: PatternList, value: string, ignoreCase: boolean): boolean {
  const anyMatch = list.patterns.some((pattern) => matchesWildcard(pattern, value, { ignoreCase }));
  return list.negated ? !anyMatch : anyMatch;
}

/**
 * One key under one operator. Several values are alternatives (OR); the statement's keys and
 * operators must all hold (AND). Absent keys: see conditionOperators.ts.
 */
export function conditionHolds(
  condition: PolicyCondition,
  context: ReadonlyMap<string, string>,
): boolean {
  const contextValue = context.get(condition.key);

  if (condition.operator === NULL_OPERATOR) {
    const mustBeAbsent = condition.values.some((value) => value.toLowerCase() === 'true');
    const mustBePresent = condition.values.some((value) => value.toLowerCase() === 'false');
    return contextValue === undefined ? mustBeAbsent : mustBePresent;
  }

  const operator = CONDITION_OPERATORS[condition.operator];
  if (operator === undefined) return false;
  if (contextValue === undefined) return condition.ifExists || operator.negated;

  const anyMatch = condition.values.some((policyValue) =>
    operator.matches(contextValue, policyValue),
  );
  return operator.negated ? !anyMatch : anyMatch;
}
