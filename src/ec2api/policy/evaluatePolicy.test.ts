import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluatePolicy, type AuthorizationRequest } from './evaluatePolicy.ts';
import { policyDocumentSchema } from './policyDocument.ts';

const INSTANCE = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0aaaaaaaaaaaaaaa1';
const OTHER_INSTANCE = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0bbbbbbbbbbbbbbb2';
const MODIFY = 'ec2:ModifyInstanceMetadataOptions';

function request(
  keys: Record<string, string> = {},
  overrides: Partial<AuthorizationRequest> = {},
): AuthorizationRequest {
  return {
    action: MODIFY,
    resource: INSTANCE,
    context: new Map(Object.entries(keys)),
    ...overrides,
  };
}

const allow = (statement: Record<string, unknown>): unknown => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: MODIFY, Resource: '*', ...statement }],
});

interface Case {
  name: string;
  policy: unknown;
  request: AuthorizationRequest;
  expected: 'allow' | 'explicit deny' | 'implicit deny';
}

const hopLimitAtMost2 = allow({
  Condition: { NumericLessThanEquals: { 'ec2:MetadataHttpPutResponseHopLimit': 2 } },
});

const CASES: Case[] = [
  {
    name: 'no policy allows nothing',
    policy: undefined,
    request: request(),
    expected: 'implicit deny',
  },
  {
    name: 'the exact action on any resource',
    policy: allow({}),
    request: request(),
    expected: 'allow',
  },
  {
    name: 'another action is not allowed',
    policy: allow({}),
    request: request({}, { action: 'ec2:DescribeInstances' }),
    expected: 'implicit deny',
  },
  {
    name: 'action names ignore case',
    policy: allow({ Action: 'EC2:modifyinstancemetadataoptions' }),
    request: request(),
    expected: 'allow',
  },
  {
    name: 'a * wildcard in the action',
    policy: allow({ Action: 'ec2:Modify*' }),
    request: request(),
    expected: 'allow',
  },
  {
    name: 'a ? wildcard in the action',
    policy: allow({ Action: 'ec2:ModifyInstanceMetadataOption?' }),
    request: request(),
    expected: 'allow',
  },
  {
    name: '"*" is every action',
    policy: allow({ Action: '*' }),
    request: request(),
    expected: 'allow',
  },
  {
    name: 'a list of actions',
    policy: allow({ Action: ['ec2:DescribeInstances', MODIFY] }),
    request: request(),
    expected: 'allow',
  },
  {
    name: 'NotAction allows what it does not name',
    policy: allow({ Action: undefined, NotAction: 'ec2:Describe*' }),
    request: request(),
    expected: 'allow',
  },
  {
    name: 'NotAction does not allow what it names',
    policy: allow({ Action: undefined, NotAction: 'ec2:Describe*' }),
    request: request({}, { action: 'ec2:DescribeInstances', resource: '*' }),
    expected: 'implicit deny',
  },
  {
    name: 'the instance ARN itself',
    policy: allow({ Resource: INSTANCE }),
    request: request(),
    expected: 'allow',
  },
  {
    name: 'an instance ARN wildcard',
    policy: allow({ Resource: 'arn:aws:ec2:*:123456789012:instance/*' }),
    request: request(),
    expected: 'allow',
  },
  {
    name: 'another instance is not covered',
    policy: allow({ Resource: OTHER_INSTANCE }),
    request: request(),
    expected: 'implicit deny',
  },
  {
    name: 'resource ARNs are case-sensitive',
    policy: allow({ Resource: INSTANCE.replace('i-0aaa', 'I-0AAA') }),
    request: request(),
    expected: 'implicit deny',
  },
  {
    name: 'an instance ARN does not cover Describe, whose resource is *',
    policy: allow({ Action: 'ec2:DescribeInstances', Resource: 'arn:aws:ec2:*:*:instance/*' }),
    request: request({}, { action: 'ec2:DescribeInstances', resource: '*' }),
    expected: 'implicit deny',
  },
  {
    name: 'NotResource covers the other instances',
    policy: allow({ Resource: undefined, NotResource: OTHER_INSTANCE }),
    request: request(),
    expected: 'allow',
  },
  {
    name: 'an explicit deny wins over an allow',
    policy: {
      Statement: [
        { Effect: 'Allow', Action: 'ec2:*', Resource: '*' },
        { Sid: 'NoModify', Effect: 'Deny', Action: MODIFY, Resource: INSTANCE },
      ],
    },
    request: request(),
    expected: 'explicit deny',
  },
  {
    name: 'hop limit 2 under NumericLessThanEquals 2',
    policy: hopLimitAtMost2,
    request: request({ 'ec2:metadatahttpputresponsehoplimit': '2' }),
    expected: 'allow',
  },
  {
    name: 'hop limit 3 under NumericLessThanEquals 2',
    policy: hopLimitAtMost2,
    request: request({ 'ec2:metadatahttpputresponsehoplimit': '3' }),
    expected: 'implicit deny',
  },
  {
    name: 'a numeric condition fails when the request sets no hop limit',
    policy: hopLimitAtMost2,
    request: request(),
    expected: 'implicit deny',
  },
  {
    name: '…IfExists holds when the request sets no hop limit',
    policy: allow({
      Condition: { NumericLessThanEqualsIfExists: { 'ec2:MetadataHttpPutResponseHopLimit': '2' } },
    }),
    request: request(),
    expected: 'allow',
  },
  {
    name: 'condition key names ignore case',
    policy: allow({ Condition: { StringEquals: { 'EC2:METADATAHTTPTOKENS': 'required' } } }),
    request: request({ 'ec2:metadatahttptokens': 'required' }),
    expected: 'allow',
  },
  {
    name: 'several values are alternatives',
    policy: allow({
      Condition: { StringEquals: { 'ec2:MetadataHttpEndpoint': ['enabled', 'disabled'] } },
    }),
    request: request({ 'ec2:metadatahttpendpoint': 'disabled' }),
    expected: 'allow',
  },
  {
    name: 'several keys must all hold',
    policy: allow({
      Condition: {
        StringEquals: {
          'ec2:MetadataHttpTokens': 'required',
          'ec2:MetadataHttpEndpoint': 'enabled',
        },
      },
    }),
    request: request({
      'ec2:metadatahttptokens': 'required',
      'ec2:metadatahttpendpoint': 'disabled',
    }),
    expected: 'implicit deny',
  },
  {
    name: 'a Deny with StringNotEquals refuses optional tokens',
    policy: {
      Statement: [
        { Effect: 'Allow', Action: MODIFY, Resource: '*' },
        {
          Effect: 'Deny',
          Action: MODIFY,
          Resource: '*',
          Condition: { StringNotEquals: { 'ec2:MetadataHttpTokens': 'required' } },
        },
      ],
    },
    request: request({ 'ec2:metadatahttptokens': 'optional' }),
    expected: 'explicit deny',
  },
  {
    name: 'a negated operator holds when the key is absent (IAM: "the condition is true")',
    policy: {
      Statement: [
        { Effect: 'Allow', Action: MODIFY, Resource: '*' },
        {
          Effect: 'Deny',
          Action: MODIFY,
          Resource: '*',
          Condition: { StringNotEquals: { 'ec2:MetadataHttpTokens': 'required' } },
        },
      ],
    },
    request: request(),
    expected: 'explicit deny',
  },
  {
    name: 'Null false requires the key',
    policy: allow({ Condition: { Null: { 'ec2:MetadataHttpTokens': 'false' } } }),
    request: request(),
    expected: 'implicit deny',
  },
  {
    name: 'Null true requires its absence',
    policy: allow({ Condition: { Null: { 'ec2:MetadataHttpTokens': true } } }),
    request: request(),
    expected: 'allow',
  },
  {
    name: 'StringLike on a resource tag',
    policy: allow({ Condition: { StringLike: { 'ec2:ResourceTag/Team': 'plat*' } } }),
    request: request({ 'ec2:resourcetag/team': 'platform' }),
    expected: 'allow',
  },
  {
    name: 'StringEqualsIgnoreCase',
    policy: allow({
      Condition: { StringEqualsIgnoreCase: { 'ec2:MetadataHttpTokens': 'REQUIRED' } },
    }),
    request: request({ 'ec2:metadatahttptokens': 'required' }),
    expected: 'allow',
  },
  {
    name: 'ArnLike on the instance the credentials were delivered to',
    policy: allow({
      Condition: { ArnLike: { 'ec2:SourceInstanceARN': 'arn:aws:ec2:*:*:instance/i-0aaa*' } },
    }),
    request: request({ 'ec2:sourceinstancearn': INSTANCE }),
    expected: 'allow',
  },
  {
    name: 'NumericGreaterThanEquals on ec2:RoleDelivery refuses IMDSv1 credentials',
    policy: allow({ Condition: { NumericGreaterThanEquals: { 'ec2:RoleDelivery': '2.0' } } }),
    request: request({ 'ec2:roledelivery': '1.0' }),
    expected: 'implicit deny',
  },
  {
    name: 'a non-numeric request value never matches a numeric operator',
    policy: allow({
      Condition: { NumericNotEquals: { 'ec2:MetadataHttpPutResponseHopLimit': 5 } },
    }),
    request: request({ 'ec2:metadatahttpputresponsehoplimit': 'two' }),
    expected: 'allow',
  },
];

describe('policy evaluation', () => {
  for (const testCase of CASES) {
    it(testCase.name, () => {
      const policy =
        testCase.policy === undefined
          ? undefined
          : policyDocumentSchema.parse(withoutUndefined(testCase.policy));
      const decision = evaluatePolicy(policy, testCase.request);
      const outcome =
        decision.effect === 'allow'
          ? 'allow'
          : decision.explicit
            ? 'explicit deny'
            : 'implicit deny';
      assert.equal(outcome, testCase.expected);
    });
  }

  it('names the statement that decided', () => {
    const policy = policyDocumentSchema.parse({
      Statement: [
        { Sid: 'AllowHopLimit', Effect: 'Allow', Action: MODIFY, Resource: '*' },
        { Effect: 'Deny', Action: 'ec2:Describe*', Resource: '*' },
      ],
    });
    assert.deepEqual(evaluatePolicy(policy, request()), {
      effect: 'allow',
      statement: 'AllowHopLimit',
    });
    assert.deepEqual(
      evaluatePolicy(policy, request({}, { action: 'ec2:DescribeInstances', resource: '*' })),
      {
        effect: 'deny',
        explicit: true,
        statement: 'Statement[1]',
      },
    );
  });
});

describe('policy documents', () => {
  const statement = { Effect: 'Allow', Action: MODIFY, Resource: '*' };

  it('are read from a mapping, a JSON string or a YAML string, with one statement or a list', () => {
    const fromMapping = policyDocumentSchema.parse({ Statement: statement });
    const fromJson = policyDocumentSchema.parse(
      JSON.stringify({ Version: '2012-10-17', Statement: [statement] }),
    );
    const fromYaml = policyDocumentSchema.parse(
      `Statement:\n  - Effect: Allow\n    Action: ${MODIFY}\n    Resource: "*"\n`,
    );
    for (const policy of [fromMapping, fromJson, fromYaml]) {
      assert.deepEqual(policy.statements, [
        {
          label: 'Statement[0]',
          effect: 'Allow',
          actions: { negated: false, patterns: [MODIFY] },
          resources: { negated: false, patterns: ['*'] },
          conditions: [],
        },
      ]);
    }
  });

  const INVALID: Array<{ name: string; policy: unknown; message: RegExp }> = [
    {
      name: 'text that is not YAML or JSON',
      policy: '{"Statement": [',
      message: /not valid YAML or JSON/,
    },
    {
      name: 'an unknown Effect',
      policy: { Statement: { ...statement, Effect: 'Permit' } },
      message: /Allow.*Deny/,
    },
    {
      name: 'both Action and NotAction',
      policy: { Statement: { ...statement, NotAction: 'ec2:*' } },
      message: /exactly one of Action and NotAction/,
    },
    {
      name: 'no Resource',
      policy: { Statement: { Effect: 'Allow', Action: MODIFY } },
      message: /exactly one of Resource and NotResource/,
    },
    {
      name: 'a Principal (identity policies have none)',
      policy: { Statement: { ...statement, Principal: '*' } },
      message: /Principal/,
    },
    {
      name: 'an action without a service',
      policy: { Statement: { ...statement, Action: 'ModifyInstanceMetadataOptions' } },
      message: /not an action/,
    },
    {
      name: 'a resource that is not an ARN',
      policy: { Statement: { ...statement, Resource: 'i-0123456789abcdef0' } },
      message: /not "\*" or an ARN/,
    },
    {
      name: 'an unknown operator',
      policy: {
        Statement: {
          ...statement,
          Condition: { NumericLessThen: { 'ec2:MetadataHttpPutResponseHopLimit': 2 } },
        },
      },
      message: /unknown condition operator/,
    },
    {
      name: 'a set operator',
      policy: {
        Statement: {
          ...statement,
          Condition: { 'ForAnyValue:StringEquals': { 'ec2:MetadataHttpTokens': 'required' } },
        },
      },
      message: /set operators/,
    },
    {
      name: 'a condition key imdsd cannot fill',
      policy: {
        Statement: { ...statement, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
      },
      message: /unknown condition operator/,
    },
    {
      name: 'an unknown condition key',
      policy: {
        Statement: { ...statement, Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-1' } } },
      },
      message: /unknown condition key; imdsd knows/,
    },
    {
      name: 'a non-numeric value for a numeric operator',
      policy: {
        Statement: {
          ...statement,
          Condition: { NumericLessThan: { 'ec2:MetadataHttpPutResponseHopLimit': 'two' } },
        },
      },
      message: /"two" is not a number/,
    },
  ];

  for (const { name, policy, message } of INVALID) {
    it(`refuse ${name}`, () => {
      const result = policyDocumentSchema.safeParse(policy);
      assert.equal(result.success, false);
      assert.match(
        result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n'),
        message,
      );
    });
  }
});

/** Lets a case drop a key of the base statement by setting it to undefined. */
function withoutUndefined(policy: unknown): unknown {
  return JSON.parse(JSON.stringify(policy)) as unknown;
}
