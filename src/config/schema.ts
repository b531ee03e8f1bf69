import { isIP } from 'node:net';
import { z } from 'zod';
import { policyDocumentSchema } from '../ec2api/policy/policyDocument.ts';
import { LOG_LEVELS } from '../log.ts';
import { parseCidr } from '../net/cidr.ts';
import { parseListenAddress } from '../net/address.ts';
import { checkRoleSources } from './roleSourceChecks.ts';

/**
 * The one schema for imdsd's configuration. The YAML file, the `IMDSD_*` environment and the
 * command-line flags are merged into this shape (see load.ts) and validated once, at startup.
 * The limits below are EC2's own (reference: ../shared/reference/imds-behaviour.md §3, §8).
 */

export const HOP_LIMIT_MIN = 1;
export const HOP_LIMIT_MAX = 64;
export const USER_DATA_MAX_BYTES = 16 * 1024;
export const ROLE_DURATION_MIN_SECONDS = 900;
export const ROLE_DURATION_MAX_SECONDS = 43_200;
export const ROLE_DURATION_DEFAULT_SECONDS = 21_600;
export const API_LISTEN_DEFAULT = '127.0.0.1:1339';

const listenAddress = z.string().superRefine((text, context) => {
  const parsed = parseListenAddress(text);
  if (typeof parsed === 'string') context.addIssue({ code: 'custom', message: parsed });
});

const cidr = z.string().superRefine((text, context) => {
  const parsed = parseCidr(text);
  if (typeof parsed === 'string') context.addIssue({ code: 'custom', message: parsed });
});

const ipv4 = z.string().refine((text) => isIP(text) === 4, 'must be an IPv4 address');

const enabledDisabled = z.enum(['enabled', 'disabled']);

export const metadataOptionsSchema = z
  .object({
    httpTokens: z.enum(['optional', 'required']).default('optional'),
    httpPutResponseHopLimit: z.number().int().min(HOP_LIMIT_MIN).max(HOP_LIMIT_MAX).default(1),
    httpEndpoint: enabledDisabled.default('enabled'),
    httpProtocolIpv6: enabledDisabled.default('disabled'),
    instanceMetadataTags: enabledDisabled.default('disabled'),
  })
  .strict();

/** Tag keys IMDS can expose: letters, digits and `+ - = . , _ : @`; not `.`, `..` or `_index`. */
const IMDS_TAG_KEY = /^[A-Za-z0-9+\-=.,_:@]{1,128}$/;

const tagKey = z
  .string()
  .refine(
    (key) => IMDS_TAG_KEY.test(key) && key !== '.' && key !== '..' && key !== '_index',
    'tag keys may only use letters, digits and + - = . , _ : @ (EC2 rule for tags in IMDS)',
  );

export const instanceSchema = z
  .object({
    instanceId: z
      .string()
      .regex(/^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, 'must look like i-0123456789abcdef0'),
    instanceType: z
      .string()
      .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must look like t3.micro')
      .default('t3.micro'),
    architecture: z.enum(['x86_64', 'arm64', 'i386']).default('x86_64'),
    imageId: z
      .string()
      .regex(/^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, 'must look like ami-0abcdef1234567890')
      .default('ami-0abcdef1234567890'),
    accountId: z
      .string()
      .regex(/^\d{12}$/, 'must be 12 digits (quote it in YAML)')
      .default('123456789012'),
    region: z
      .string()
      .regex(/^[a-z]{2}(?:-[a-z]+)+-\d$/, 'must look like us-west-2')
      .default('us-east-1'),
    availabilityZone: z
      .string()
      .regex(/^[a-z]{2}(?:-[a-z]+)+-\d[a-z]$/, 'must look like us-west-2a')
      .optional(),
    privateIp: ipv4.default('172.31.16.10'),
    publicIp: ipv4.optional(),
    macAddress: z
      .string()
      .regex(/^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/, 'must be lower-case aa:bb:cc:dd:ee:ff')
      .optional(),
    securityGroups: z.array(z.string().min(1)).min(1).default(['default']),
    launchTime: z.string().datetime({ offset: true }).optional(),
    userData: z.string().optional(),
    userDataFile: z.string().min(1).optional(),
    tags: z.record(tagKey, z.string().max(256)).default({}),
    keyName: z.string().min(1).optional(),
    openSshKey: z.string().min(1).optional(),
    iamRole: z
      .string()
      .regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name')
      .optional(),
    instanceProfile: z
      .string()
      .regex(/^[\w+=,.@-]{1,128}$/, 'must be an instance profile name')
      .optional(),
    metadataOptions: metadataOptionsSchema.default({}),
    clients: z.array(cidr).min(1).default(['0.0.0.0/0', '::/0']),
  })
  .strict()
  .superRefine((instance, context) => {
    if (instance.userData !== undefined && instance.userDataFile !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['userDataFile'],
        message: 'give userData or userDataFile, not both',
      });
    }
    if (
      instance.availabilityZone !== undefined &&
      !instance.availabilityZone.startsWith(instance.region)
    ) {
      context.addIssue({
        code: 'custom',
        path: ['availabilityZone'],
        message: `must be a zone of region ${instance.region}`,
      });
    }
  });

export const ASSUME_ROLE_DURATION_DEFAULT_SECONDS = 3_600;

const roleName = z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name');
const stsName = z
  .string()
  .regex(/^[\w+=,.@-]{2,64}$/, 'must be 2 to 64 of letters, digits and +=,.@-');
const environmentVariable = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

const durationSeconds = z
  .number()
  .int()
  .min(ROLE_DURATION_MIN_SECONDS)
  .max(ROLE_DURATION_MAX_SECONDS)
  .default(ROLE_DURATION_DEFAULT_SECONDS);

/** Keys every role has, whatever its source: spread into each source's schema. */
const roleCommon = {
  /** The role's IAM policy, enforced by the control API. None allows nothing, as on EC2. */
  policy: policyDocumentSchema.optional(),
};

export const mintedRoleSchema = z
  .object({
    source: z.literal('minted'),
    durationSeconds,
    ...roleCommon,
  })
  .strict();

/** Long-term or temporary keys to hand out as they are; from the file or from named variables. */
export const staticRoleSchema = z
  .object({
    source: z.literal('static'),
    accessKeyId: z
      .string()
      .regex(/^[A-Z0-9]{16,128}$/, 'must look like ASIA... or AKIA...')
      .optional(),
    accessKeyIdEnv: environmentVariable.optional(),
    secretAccessKey: z.string().min(1).optional(),
    secretAccessKeyEnv: environmentVariable.optional(),
    sessionToken: z.string().min(1).optional(),
    sessionTokenEnv: environmentVariable.optional(),
    expiration: z.string().datetime({ offset: true }).optional(),
  })
  .strict();

/** STS AssumeRole, signed with credentials from the SDK's chain or from another role. */
export const assumeRoleSchema = z
  .object({
    source: z.literal('assume-role'),
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN'),
    externalId: z
      .string()
      .regex(/^[\w+=,.@:/-]{2,1224}$/, 'must be 2 to 1224 of letters, digits and +=,.@:/-')
      .optional(),
    roleSessionName: stsName.optional(),
    durationSeconds: z
      .number()
      .int()
      .min(ROLE_DURATION_MIN_SECONDS)
      .max(ROLE_DURATION_MAX_SECONDS)
      .default(ASSUME_ROLE_DURATION_DEFAULT_SECONDS),
    sessionPolicy: z.union([z.string().min(1), z.record(z.unknown())]).optional(),
    sessionPolicyArns: z
      .array(
        z
          .string()
          .regex(/^arn:aws[a-z-]*:iam::(?:\d{12}|aws):policy\/.+$/, 'must be an IAM policy ARN'),
      )
      .max(10)
      .optional(),
    sessionTags: z
      .record(
        z.string().regex(/^[\p{L}\p{Z}\p{N}_.:/=+@-]{1,128}$/u, 'must be a tag key'),
        z.string().max(256),
      )
      .optional(),
    sourceIdentity: stsName.optional(),
    stsRegion: z
      .string()
      .regex(/^[a-z]{2}(?:-[a-z]+)+-\d$/, 'must look like us-west-2')
      .optional(),
    stsEndpoint: z
      .string()
      .url()
      .refine((url) => /^https?:\/\//.test(url), 'must be an http or https URL')
      .optional(),
    profile: z.string().min(1).optional(),
    sourceRole: roleName.optional(),
  })
  .strict();

export const roleSchema = z.discriminatedUnion('source', [
  mintedRoleSchema,
  staticRoleSchema,
  assumeRoleSchema,
]);

/** How imdsd talks to STS and when `imdsd serve` stops waiting for the first credentials. */
export const credentialsSettingsSchema = z
  .object({
    stsCallsPerSecond: z.number().positive().max(1_000).default(10),
    stsBurst: z.number().int().min(1).max(10_000).default(20),
    startupWaitSeconds: z.number().min(0).max(600).default(10),
  })
  .strict();

/** Administrator keys of the control API: they may do everything (README "Control API"). */
export const apiCredentialSchema = z
  .object({
    accessKeyId: z
      .string()
      .regex(/^[A-Z0-9]{16,128}$/, 'must be 16 to 128 upper-case letters and digits'),
    secretAccessKey: z
      .string()
      .min(16, 'must be at least 16 characters')
      .max(128, 'must be at most 128 characters'),
  })
  .strict();

export const apiSchema = z
  .object({
    credentials: z.array(apiCredentialSchema).default([]),
  })
  .strict();

export const configSchema = z
  .object({
    listen: z.array(listenAddress).min(1).default(['127.0.0.1:1338']),
    apiListen: listenAddress.default(API_LISTEN_DEFAULT),
    api: apiSchema.default({}),
    state: z.string().min(1).optional(),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    instances: z.array(instanceSchema).min(1).optional(),
    roles: z
      .record(z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name'), roleSchema)
      .default({}),
    credentials: credentialsSettingsSchema.default({}),
  })
  .strict()
  .superRefine((config, context) => {
    checkRoleSources(config.roles, context);
    checkApiSettings(config, context);

    const seenIds = new Set<string>();
    const seenClients = new Map<string, number>();
    config.instances?.forEach((instance, index) => {
      instance.clients.forEach((block, clientIndex) => {
        const other = seenClients.get(block);
        if (other !== undefined && other !== index) {
          context.addIssue({
            code: 'custom',
            path: ['instances', index, 'clients', clientIndex],
            message: `"${block}" is also a client block of instances[${other}]; a caller must match one instance`,
          });
        }
        seenClients.set(block, index);
      });

      if (seenIds.has(instance.instanceId)) {
        context.addIssue({
          code: 'custom',
          path: ['instances', index, 'instanceId'],
          message: 'is used by another instance',
        });
      }
      seenIds.add(instance.instanceId);

      if (instance.iamRole !== undefined && !(instance.iamRole in config.roles)) {
        context.addIssue({
          code: 'custom',
          path: ['instances', index, 'iamRole'],
          message: `role "${instance.iamRole}" is not defined under roles`,
        });
      }
    });
  });

/** The control API never shares the IMDS listener, and each administrator key id is unique. */
function checkApiSettings(
  config: {
    listen: string[];
    apiListen: string;
    api: { credentials: Array<{ accessKeyId: string }> };
  },
  context: z.RefinementCtx,
): void {
  const api = parseListenAddress(config.apiListen);
  const clash = config.listen.find((text) => {
    const imds = parseListenAddress(text);
    return (
      typeof imds !== 'string' &&
      typeof api !== 'string' &&
      api.port !== 0 &&
      imds.host === api.host &&
      imds.port === api.port
    );
  });
  if (clash !== undefined) {
    context.addIssue({
      code: 'custom',
      path: ['apiListen'],
      message: `is also an IMDS listen address; the control API needs its own`,
    });
  }

  const seenKeys = new Set<string>();
  config.api.credentials.forEach(({ accessKeyId }, index) => {
    if (seenKeys.has(accessKeyId)) {
      context.addIssue({
        code: 'custom',
        path: ['api', 'credentials', index, 'accessKeyId'],
        message: 'is used by another credential',
      });
    }
    seenKeys.add(accessKeyId);
  });
}

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type InstanceConfig = z.output<typeof instanceSchema>;
export type RoleConfig = z.output<typeof roleSchema>;
export type MetadataOptions = z.output<typeof metadataOptionsSchema>;
export type StaticRoleConfig = z.output<typeof staticRoleSchema>;
export type AssumeRoleConfig = z.output<typeof assumeRoleSchema>;
export type CredentialsSettings = z.output<typeof credentialsSettingsSchema>;
export type ApiCredentialConfig = z.output<typeof apiCredentialSchema>;
