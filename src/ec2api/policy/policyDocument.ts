import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { z } from 'zod';
import {
  CONDITION_OPERATORS,
  IF_EXISTS_SUFFIX,
  NULL_OPERATOR,
  checkNullValue,
} from './conditionOperators.ts';
import { KNOWN_CONDITION_KEYS_TEXT, isKnownConditionKey } from './conditionKeys.ts';

// The YAML parser is loaded only when a policy is given as text (see load.ts for why).
const requireLazily = createRequire(import.meta.url);
function parseYaml(text: string, options: Yaml.ParseOptions & Yaml.DocumentOptions): unknown {
  return (requireLazily('yaml') as typeof Yaml).parse(text, options);
}

/**
 * An IAM identity policy as imdsd evaluates it: the grammar of the IAM User Guide ("IAM JSON
 * policy element reference") for the elements an EC2 permission needs: Effect, Action or
 * NotAction, Resource or NotResource, and Condition. Written in the config as a YAML mapping
 * or as a string of YAML or JSON (so a policy copied from the IAM console pastes as is).
 */
export interface PolicyDocument {
  statements: PolicyStatement[];
}

export interface PolicyStatement {
  /** The Sid, or `Statement[i]` when there is none: how messages name the statement. */
  label: string;
  effect: 'Allow' | 'Deny';
  actions: PatternList;
  resources: PatternList;
  conditions: PolicyCondition[];
}

/** `Action` (negated: false) or `NotAction` (negated: true); the same for resources. */
export interface PatternList {
  negated: boolean;
  patterns: string[];
}

export interface PolicyCondition {
  /** Without the IfExists suffix, e.g. `NumericLessThanEquals` or `Null`. */
  operator: string;
  ifExists: boolean;
  /** Lower-case, as IAM compares key names. */
  key: string;
  values: string[];
}

/** IAM lets one value stand for a list of one. Normalised first, so errors name the element. */
const oneOrMany = <T extends z.ZodTypeAny>(item: T) =>
  z.preprocess((value) => (Array.isArray(value) ? value : [value]), z.array(item).min(1));

const ACTION_PATTERN = /^(?:\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$/i;

const actionList = oneOrMany(z.string()).superRefine((patterns, context) => {
  patterns.forEach((pattern, index) => {
    if (!ACTION_PATTERN.test(pattern)) {
      context.addIssue({
        code: 'custom',
        path: [index],
        message: `"${pattern}" is not an action like ec2:ModifyInstanceMetadataOptions`,
      });
    }
  });
});

const resourceList = oneOrMany(z.string()).superRefine((patterns, context) => {
  patterns.forEach((pattern, index) => {
    if (pattern !== '*' && !pattern.startsWith('arn:')) {
      context.addIssue({
        code: 'custom',
        path: [index],
        message: `"${pattern}" is not "*" or an ARN`,
      });
    }
  });
});

const conditionValues = oneOrMany(z.union([z.string(), z.number(), z.boolean()])).transform(
  (values) => values.map(String),
);

const conditionBlock = z
  .record(z.string(), z.record(z.string(), conditionValues))
  .superRefine((block, context) => {
    for (const [operatorName, keys] of Object.entries(block)) {
      const problem = operatorProblem(operatorName);
      if (problem !== undefined) {
        context.addIssue({ code: 'custom', path: [operatorName], message: problem });
      }

      for (const [key, values] of Object.entries(keys)) {
        const keyProblem = isKnownConditionKey(key)
          ? undefined
          : `unknown condition key; imdsd knows ${KNOWN_CONDITION_KEYS_TEXT}`;
        const valueProblem =
          problem === undefined
            ? values.map((value) => valueProblemOf(operatorName, value)).find(Boolean)
            : undefined;
        const message = keyProblem ?? valueProblem;
        if (message !== undefined) {
          context.addIssue({ code: 'custom', path: [operatorName, key], message });
        }
      }
    }
  });

const statementSchema = z
  .object({
    Sid: z
      .string()
      .regex(/^[A-Za-z0-9]*$/, 'a Sid may only use letters and digits')
      .optional(),
    Effect: z.enum(['Allow', 'Deny']),
    Action: actionList.optional(),
    NotAction: actionList.optional(),
    Resource: resourceList.optional(),
    NotResource: resourceList.optional(),
    Condition: conditionBlock.optional(),
  })
  .strict()
  .superRefine((statement, context) => {
    for (const [element, negated] of [
      ['Action', 'NotAction'],
      ['Resource', 'NotResource'],
    ] as const) {
      const count =
        Number(statement[element] !== undefined) + Number(statement[negated] !== undefined);
      if (count !== 1) {
        context.addIssue({
          code: 'custom',
          path: [element],
          message: `a statement needs exactly one of ${element} and ${negated}`,
        });
      }
    }
  });

const documentSchema = z
  .object({
    Version: z.enum(['2012-10-17', '2008-10-17']).optional(),
    Id: z.string().optional(),
    Statement: oneOrMany(statementSchema),
  })
  .strict();

/** The `policy` of a role in the config: a mapping, or YAML/JSON text, checked and normalised. */
export const policyDocumentSchema = z
  .preprocess((value, context) => {
    if (typeof value !== 'string') return value;
    try {
      return parseYaml(value, { uniqueKeys: true }) as unknown;
    } catch (error) {
      context.addIssue({
        code: 'custom',
        message: `is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`,
      });
      return z.NEVER;
    }
  }, documentSchema)
  .transform(
    (document): PolicyDocument => ({
      statements: document.Statement.map((statement, index) => ({
        label: statement.Sid || `Statement[${index}]`,
        effect: statement.Effect,
        actions: patternList(statement.Action, statement.NotAction),
        resources: patternList(statement.Resource, statement.NotResource),
        conditions: conditionsOf(statement.Condition ?? {}),
      })),
    }),
  );

function patternList(positive: string[] | undefined, negative: string[] | undefined): PatternList {
  return positive !== undefined
    ? { negated: false, patterns: positive }
    : { negated: true, patterns: negative ?? [] };
}

function conditionsOf(block: Record<string, Record<string, string[]>>): PolicyCondition[] {
  return Object.entries(block).flatMap(([operatorName, keys]) => {
    const ifExists = operatorName.endsWith(IF_EXISTS_SUFFIX);
    const operator = ifExists ? operatorName.slice(0, -IF_EXISTS_SUFFIX.length) : operatorName;
    return Object.entries(keys).map(([key, values]) => ({
      operator,
      ifExists,
      key: key.toLowerCase(),
      values,
    }));
  });
}

function operatorProblem(name: string): string | undefined {
  if (/^(?:ForAnyValue|ForAllValues):/.test(name)) {
    return 'set operators (ForAnyValue:, ForAllValues:) are not supported: every key imdsd provides has one value';
  }
  if (name === NULL_OPERATOR) return undefined;

  const base = name.endsWith(IF_EXISTS_SUFFIX) ? name.slice(0, -IF_EXISTS_SUFFIX.length) : name;
  if (CONDITION_OPERATORS[base] !== undefined) return undefined;
  return `unknown condition operator; imdsd knows Null and ${Object.keys(CONDITION_OPERATORS).join(', ')} (each also with IfExists)`;
}

function valueProblemOf(operatorName: string, value: string): string | undefined {
  if (operatorName === NULL_OPERATOR) return checkNullValue(value);
  const base = operatorName.endsWith(IF_EXISTS_SUFFIX)
    ? operatorName.slice(0, -IF_EXISTS_SUFFIX.length)
    : operatorName;
  return CONDITION_OPERATORS[base]?.checkPolicyValue(value);
}
