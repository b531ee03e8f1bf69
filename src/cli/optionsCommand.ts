import { parseArgs } from 'node:util';
import {
  API_ACCESS_KEY_ID_ENV,
  API_SECRET_ACCESS_KEY_ENV,
  loadConfig,
  nonEmpty,
} from '../config/load.ts';
import { API_LISTEN_DEFAULT } from '../config/schema.ts';
import {
  describeMetadataOptions,
  modifyMetadataOptions,
  type ControlApiTarget,
  type MetadataOptionsChangeRequest,
} from '../ec2api/client/metadataOptionsClient.ts';
import { ImdsdError } from '../errors.ts';

const OPTIONS_FLAGS = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  config: { type: 'string' },
  'http-tokens': { type: 'string' },
  'hop-limit': { type: 'string' },
  'http-endpoint': { type: 'string' },
  'http-protocol-ipv6': { type: 'string' },
  'instance-metadata-tags': { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

type OptionsFlags = ReturnType<typeof parseOptionsArgs>['values'];

/**
 * `imdsd options show|set INSTANCE_ID …`: the control API's ModifyInstanceMetadataOptions and
 * DescribeInstances, signed with SigV4, printed as the AWS CLI prints them. Keys come from the
 * environment (IMDSD_API_*, else AWS_*) or the config file's first administrator key; never
 * from a flag, which would leave the secret in the shell history and the process list.
 */
export async function optionsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptionsArgs(args);
  const [verb, instanceId, ...extra] = positionals;
  if ((verb !== 'show' && verb !== 'set') || instanceId === undefined || extra.length > 0) {
    throw new ImdsdError(
      'USAGE',
      'usage: imdsd options show|set INSTANCE_ID [flags] (see imdsd help)',
    );
  }

  const target = controlApiTarget(values);
  // The SDK warns that its releases after January 2027 need Node 22; imdsd pins one that
  // supports Node 20, so the warning would only be noise on every call.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

  if (verb === 'show') {
    const options = await describeMetadataOptions(target, instanceId);
    printJson({ InstanceId: instanceId, MetadataOptions: options });
    return 0;
  }

  const options = await modifyMetadataOptions(target, instanceId, changeRequest(values));
  printJson({ InstanceId: instanceId, InstanceMetadataOptions: options });
  return 0;
}

function parseOptionsArgs(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS_FLAGS, strict: true, allowPositionals: true });
  } catch (error) {
    throw new ImdsdError('USAGE', (error as Error).message);
  }
}

function changeRequest(values: OptionsFlags): MetadataOptionsChangeRequest {
  const change: MetadataOptionsChangeRequest = {};
  if (values['http-tokens'] !== undefined) change.httpTokens = values['http-tokens'];
  if (values['hop-limit'] !== undefined) {
    change.httpPutResponseHopLimit = hopLimitFlag(values['hop-limit']);
  }
  if (values['http-endpoint'] !== undefined) change.httpEndpoint = values['http-endpoint'];
  if (values['http-protocol-ipv6'] !== undefined) {
    change.httpProtocolIpv6 = values['http-protocol-ipv6'];
  }
  if (values['instance-metadata-tags'] !== undefined) {
    change.instanceMetadataTags = values['instance-metadata-tags'];
  }
  if (Object.keys(change).length === 0) {
    throw new ImdsdError(
      'USAGE',
      'options set needs at least one of --http-tokens, --hop-limit, --http-endpoint, --http-protocol-ipv6, --instance-metadata-tags',
    );
  }
  if (values['dry-run'] === true) change.dryRun = true;
  return change;
}

function hopLimitFlag(text: string): number {
  if (!/^\d{1,5}$/.test(text)) {
    throw new ImdsdError('USAGE', `--hop-limit ${text}: must be a whole number (1 to 64)`);
  }
  return Number(text);
}

/** Endpoint: --endpoint, AWS_ENDPOINT_URL_EC2, the config's apiListen, then the default. */
function controlApiTarget(
  values: OptionsFlags,
  env: NodeJS.ProcessEnv = process.env,
): ControlApiTarget {
  const config =
    values.config === undefined ? undefined : loadConfig({ config: values.config }, env).config;
  const endpoint =
    values.endpoint ??
    nonEmpty(env['AWS_ENDPOINT_URL_EC2']) ??
    `http://${config?.apiListen ?? API_LISTEN_DEFAULT}`;
  if (!/^https?:\/\/[^/]+\/?$/.test(endpoint)) {
    throw new ImdsdError('USAGE', `--endpoint ${endpoint}: must be http://HOST:PORT`);
  }

  const region =
    values.region ??
    nonEmpty(env['AWS_REGION']) ??
    nonEmpty(env['AWS_DEFAULT_REGION']) ??
    'us-east-1';
  return { endpoint, region, credentials: signingKeys(env, config?.api.credentials[0]) };
}

function signingKeys(
  env: NodeJS.ProcessEnv,
  fromConfig: { accessKeyId: string; secretAccessKey: string } | undefined,
): ControlApiTarget['credentials'] {
  const administratorId = nonEmpty(env[API_ACCESS_KEY_ID_ENV]);
  const administratorSecret = nonEmpty(env[API_SECRET_ACCESS_KEY_ENV]);
  if (administratorId !== undefined && administratorSecret !== undefined) {
    return { accessKeyId: administratorId, secretAccessKey: administratorSecret };
  }

  const accessKeyId = nonEmpty(env['AWS_ACCESS_KEY_ID']);
  const secretAccessKey = nonEmpty(env['AWS_SECRET_ACCESS_KEY']);
  const sessionToken = nonEmpty(env['AWS_SESSION_TOKEN']);
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    return sessionToken === undefined
      ? { accessKeyId, secretAccessKey }
      : { accessKeyId, secretAccessKey, sessionToken };
  }

  if (fromConfig !== undefined) return { ...fromConfig };
  throw new ImdsdError(
    'USAGE',
    `no keys to sign with: set ${API_ACCESS_KEY_ID_ENV} and ${API_SECRET_ACCESS_KEY_ENV} (or AWS_ACCESS_KEY_ID and ` +
      'AWS_SECRET_ACCESS_KEY), or give --config with api.credentials',
  );
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 4)}\n`);
}
