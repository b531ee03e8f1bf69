import { matchesWildcard } from './wildcardPattern.ts';

/**
 * IAM condition operators (IAM User Guide, "IAM JSON policy elements: Condition operators").
 * Each compares one value of the request context with one value of the policy. A negated
 * operator holds when no policy value matches; so, as IAM documents, it also holds when the
 * key is absent from the request, while every other operator then fails. `…IfExists` holds
 * when the key is absent; `Null` tests presence alone (see evaluatePolicy.ts).
 */
export interface ConditionOperator {
  negated: boolean;
  /** Whether a policy value is acceptable for this operator; a message when it is not. */
  checkPolicyValue(value: string): string | undefined;
  matches(contextValue: string, policyValue: string): boolean;
}

const anyString = (): undefined => undefined;

const numeric = (value: string): string | undefined =>
  /^-?\d+(?:\.\d+)?$/.test(value) ? undefined : `"${value}" is not a number`;

const boolean = (value: string): string | undefined =>
  /^(?:true|false)$/i.test(value) ? undefined : `"${value}" is not true or false`;

function numericComparison(
  compare: (context: number, policy: number) => boolean,
  negated = false,
): ConditionOperator {
  return {
    negated,
    checkPolicyValue: numeric,
    matches: (contextValue, policyValue) =>
      numeric(contextValue) === undefined && compare(Number(contextValue), Number(policyValue)),
  };
}

function stringComparison(
  match: (context: string, policy: string) => boolean,
  negated: boolean,
): ConditionOperator {
  return { negated, checkPolicyValue: anyString, matches: match };
}

const equals = (context: string, policy: string): boolean => context === policy;
const equalsIgnoreCase = (context: string, policy: string): boolean =>
  context.toLowerCase() === policy.toLowerCase();
const like = (context: string, policy: string): boolean =>
  matchesWildcard(policy, context, { ignoreCase: false });

/** By name, without the `IfExists` suffix. `Null` is handled apart: it tests presence. */
export const CONDITION_OPERATORS: Readonly<Record<string, ConditionOperator>> = {
  StringEquals: stringComparison(equals, false),
  StringNotEquals: stringComparison(equals, true),
  StringEqualsIgnoreCase: stringComparison(equalsIgnoreCase, false),
  StringNotEqualsIgnoreCase: stringComparison(equalsIgnoreCase, true),
  StringLike: stringComparison(like, false),
  StringNotLike: stringComparison(like, true),
  NumericEquals: numericComparison((context, policy) => context === policy),
  NumericNotEquals: numericComparison((context, policy) => context === policy, true),
  NumericLessThan: numericComparison((context, policy) => context < policy),
  NumericLessThanEquals: numericComparison((context, policy) => context <= policy),
  NumericGreaterThan: numericComparison((context, policy) => context > policy),
  NumericGreaterThanEquals: numericComparison((context, policy) => context >= policy),
  Bool: { negated: false, checkPolicyValue: boolean, matches: equalsIgnoreCase },
  // IAM lets both ArnEquals and ArnLike carry wildcards; they behave the same.
  ArnEquals: stringComparison(like, false),
  ArnLike: stringComparison(like, false),
  ArnNotEquals: stringComparison(like, true),
  ArnNotLike: stringComparison(like, true),
};

export const NULL_OPERATOR = 'Null';
export const IF_EXISTS_SUFFIX = 'IfExists';

/** Checks a Null operator's value: `true` (the key must be absent) or `false` (present). */
export function checkNullValue(value: string): string | undefined {
  return boolean(value);
}
