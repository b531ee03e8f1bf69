import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CONDITION_OPERATORS } from './conditionOperators.ts';
import { conditionHolds, evaluatePolicy, type AuthorizationRequest } from './evaluatePolicy.ts';
import {
  policyDocumentSchema,
  type PolicyCondition,
  type PolicyDocument,
  type PolicyStatement,
} from './policyDocument.ts';
import { matchesWildcard } from './wildcardPattern.ts';

/**
 * Properties of IAM policy evaluation over random policies and requests (IAM User Guide,
 * "Policy evaluation logic"): an explicit Deny always wins, statement order never matters,
 * nothing is allowed without an Allow, and negated elements and operators are exact complements.
 */

const ACTIONS = [
  'ec2:ModifyInstanceMetadataOptions',
  'ec2:DescribeInstances',
  'ec2:RunInstances',
  's3:GetObject',
];
const action = fc.constantFrom(...ACTIONS);
const instanceArn = fc
  .stringMatching(/^i-[0-9a-f]{17}$/)
  .map((id) => `arn:aws:ec2:us-east-1:123456789012:instance/${id}`);
const resource = fc.oneof(instanceArn, fc.constant('*'));

/** A pattern that may or may not match a value: the value itself, a wildcard form of it, or another. */
function patternFor(values: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    values,
    values.map((value) => `${value.slice(0, Math.ceil(value.length / 2))}*`),
    values.map((value) => value.replace(/[0-9]/g, '?')),
    fc.constant('*'),
  );
}

const KEYS = [
  'ec2:metadatahttptokens',
  'ec2:metadatahttpputresponsehoplimit',
  'ec2:instancetype',
  'ec2:region',
];
const contextValue = fc.oneof(
  fc.constantFrom('required', 'optional', 't3.micro', 'us-east-1'),
  fc.integer({ min: 0, max: 70 }).map(String),
);
const context = fc
  .array(fc.tuple(fc.constantFrom(...KEYS), contextValue), { maxLength: 4 })
  .map((entries) => new Map(entries));

const request: fc.Arbitrary<AuthorizationRequest> = fc.record({
  action,
  resource: instanceArn,
  context,
});

const condition: fc.Arbitrary<PolicyCondition> = fc.record({
  operator: fc.constantFrom(
    'StringEquals',
    'StringNotEquals',
    'StringLike',
    'NumericLessThanEquals',
    'NumericNotEquals',
  ),
  ifExists: fc.boolean(),
  key: fc.constantFrom(...KEYS),
  values: fc.array(contextValue, { minLength: 1, maxLength: 3 }),
});

const statement: fc.Arbitrary<PolicyStatement> = fc.record({
  label: fc.stringMatching(/^[A-Za-z0-9]{1,8}$/),
  effect: fc.constantFrom('Allow' as const, 'Deny' as const),
  actions: fc.record({
    negated: fc.boolean(),
    patterns: fc.array(patternFor(action), { minLength: 1, maxLength: 3 }),
  }),
  resources: fc.record({
    negated: fc.boolean(),
    patterns: fc.array(patternFor(resource), { minLength: 1, maxLength: 2 }),
  }),
  conditions: fc.array(condition, { maxLength: 2 }),
});

const policy: fc.Arbitrary<PolicyDocument> = fc.record({
  statements: fc.array(statement, { maxLength: 6 }),
});

const denyEverything: PolicyStatement = {
  label: 'DenyAll',
  effect: 'Deny',
  actions: { negated: false, patterns: ['*'] },
  resources: { negated: false, patterns: ['*'] },
  conditions: [],
};

test('an explicit Deny that matches wins over every Allow, wherever it stands', () => {
  fc.assert(
    fc.property(policy, request, fc.nat(), (document, sent, at) => {
      const statements = [...document.statements];
      statements.splice(at % (statements.length + 1), 0, denyEverything);
      const decision = evaluatePolicy({ statements }, sent);
      assert.equal(decision.effect, 'deny');
      assert.equal('explicit' in decision && decision.explicit, true);
    }),
  );
});

test('the order of statements never changes the effect', () => {
  fc.assert(
    fc.property(policy, request, (document, sent) => {
      const reversed = { statements: [...document.statements].reverse() };
      const effect = (decision: ReturnType<typeof evaluatePolicy>): string =>
        decision.effect === 'allow'
          ? 'allow'
          : decision.explicit
            ? 'explicit deny'
            : 'implicit deny';
      assert.equal(effect(evaluatePolicy(reversed, sent)), effect(evaluatePolicy(document, sent)));
    }),
  );
});

test('nothing is allowed without a matching Allow; no policy allows nothing', () => {
  fc.assert(
    fc.property(policy, request, (document, sent) => {
      const denies = { statements: document.statements.filter((entry) => entry.effect === 'Deny') };
      assert.equal(evaluatePolicy(denies, sent).effect, 'deny');
      assert.deepEqual(evaluatePolicy(undefined, sent), { effect: 'deny', explicit: false });
    }),
  );
});

test('adding an Allow never takes a permission away; adding a Deny never grants one', () => {
  fc.assert(
    fc.property(policy, statement, request, (document, added, sent) => {
      const before = evaluatePolicy(document, sent).effect;
      const after = evaluatePolicy({ statements: [...document.statements, added] }, sent).effect;
      if (added.effect === 'Allow' && before === 'allow') assert.equal(after, 'allow');
      if (added.effect === 'Deny' && before === 'deny') assert.equal(after, 'deny');
    }),
  );
});

test('NotAction and NotResource match exactly what Action and Resource do not', () => {
  fc.assert(
    fc.property(statement, request, (base, sent) => {
      const unconditional = { ...base, effect: 'Allow' as const, conditions: [] };
      const applies = (entry: PolicyStatement): boolean =>
        evaluatePolicy({ statements: [entry] }, sent).effect === 'allow';
      const flippedActions = {
        ...unconditional,
        actions: { ...unconditional.actions, negated: !unconditional.actions.negated },
      };
      const flippedResources = {
        ...unconditional,
        resources: { ...unconditional.resources, negated: !unconditional.resources.negated },
      };
      const both = { ...flippedActions, resources: flippedResources.resources };
      // Exactly one of the four combinations applies.
      const count = [unconditional, flippedActions, flippedResources, both].filter(applies).length;
      assert.equal(count, 1);
    }),
  );
});

test('a negated operator holds exactly when its positive form does not, with the key present', () => {
  const pairs: [string, string][] = [
    ['StringEquals', 'StringNotEquals'],
    ['StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase'],
    ['StringLike', 'StringNotLike'],
    ['NumericEquals', 'NumericNotEquals'],
    ['ArnLike', 'ArnNotLike'],
  ];
  fc.assert(
    fc.property(
      fc.constantFrom(...pairs),
      fc.constantFrom(...KEYS),
      contextValue,
      fc.array(contextValue, { minLength: 1 }),
      ([positive, negative], key, value, values) => {
        const present = new Map([[key, value]]);
        const holds = (operator: string, inContext: Map<string, string>): boolean =>
          conditionHolds({ operator, ifExists: false, key, values }, inContext);
        // Numeric operators never match a value that is not a number, so both forms skip those.
        fc.pre(!positive.startsWith('Numeric') || /^\d+$/.test(value));
        assert.equal(holds(negative, present), !holds(positive, present));

        // Absent key: positive operators fail, negated ones hold, …IfExists holds (IAM docs).
        assert.equal(holds(positive, new Map()), false);
        assert.equal(holds(negative, new Map()), true);
        assert.equal(
          conditionHolds({ operator: positive, ifExists: true, key, values }, new Map()),
          true,
        );
      },
    ),
  );
  assert.ok(
    pairs.every(
      ([positive, negative]) => CONDITION_OPERATORS[positive] && CONDITION_OPERATORS[negative],
    ),
  );
});

test('wildcards: * matches anything, ? one character, anything else only itself', () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), fc.boolean(), (value, other, ignoreCase) => {
      assert.ok(matchesWildcard('*', value, { ignoreCase }));
      const literal = value.replace(/[*?]/g, '');
      assert.ok(matchesWildcard(literal, literal, { ignoreCase }));
      if (!ignoreCase)
        assert.equal(matchesWildcard(literal, other, { ignoreCase }), literal === other);
      assert.ok(matchesWildcard('?'.repeat([...value].length), value, { ignoreCase }));
    }),
  );
});

test('any value given as a policy is parsed or refused with issues, never thrown on', () => {
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.string()), (value) => {
      policyDocumentSchema.safeParse(value);
    }),
  );
});
