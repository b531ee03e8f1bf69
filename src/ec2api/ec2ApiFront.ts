import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InstanceDirectory } from '../instances/instanceDirectory.ts';
import type { Logger } from '../log.ts';
import { unmapIpv4 } from '../net/address.ts';
import type { ApiCaller, FindCaller } from './apiCaller.ts';
import { Ec2ApiError } from './ec2ApiError.ts';
import { EC2_API_VERSION, EC2_XML_CONTENT_TYPE, renderError, renderSuccess } from './ec2Xml.ts';
import type { MetadataOptionsUpdater } from './metadataOptionsUpdater.ts';
import { describeInstances } from './operations/describeInstances.ts';
import type { Ec2Operation } from './operations/ec2Operation.ts';
import { modifyInstanceMetadataOptions } from './operations/modifyInstanceMetadataOptions.ts';
import { QueryParameters, parseQueryString } from './queryParameters.ts';
import { verifySignature } from './sigv4/verifySignature.ts';

/**
 * The control API front: the EC2 Query protocol (`POST /` with a form body, or `GET /?…`),
 * SigV4 authentication, then the action. Every answer is EC2's XML: the action's response
 * document, or the error envelope with EC2's code and HTTP status. It runs on its own
 * listener, never on an IMDS one.
 */
export interface Ec2ApiFrontOptions {
  instances: InstanceDirectory;
  updater: MetadataOptionsUpdater;
  findCaller: FindCaller;
  logger: Logger;
  now?: () => number;
}

export type Ec2ApiRequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

export const EC2_OPERATIONS: ReadonlyMap<string, Ec2Operation> = new Map(
  [modifyInstanceMetadataOptions, describeInstances].map((operation) => [
    operation.action,
    operation,
  ]),
);

/** EC2 Query requests for these actions are a few hundred bytes; this bounds a hostile one. */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;

const SIGNING_SERVICE = 'ec2';
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

interface Outcome {
  status: number;
  body: string;
  action?: string;
  caller?: ApiCaller;
  instanceId?: string;
  ec2Code?: string;
  /** What was thrown, for an internal error's log line. */
  error?: unknown;
}

export function createEc2ApiFront(options: Ec2ApiFrontOptions): Ec2ApiRequestHandler {
  const now = options.now ?? Date.now;

  return (request, response) => {
    const nowMs = now();
    const requestId = randomUUID();
    const trace: Partial<Outcome> = {};

    readBody(request)
      .then((body) => answer(options, request, body, requestId, nowMs, trace))
      .catch((error: unknown) => failure(error, requestId, trace))
      .then((outcome) => {
        send(response, outcome, requestId);
        logOutcome(options.logger, request, outcome, requestId, now() - nowMs);
      })
      .catch((error: unknown) =>
        options.logger.error({ err: error, requestId }, 'control API answer failed'),
      );
  };
}

async function answer(
  options: Ec2ApiFrontOptions,
  request: IncomingMessage,
  body: Buffer,
  requestId: string,
  nowMs: number,
  trace: Partial<Outcome>,
): Promise<Outcome> {
  const url = new URL(request.url ?? '/', 'http://control-api');
  if (request.method !== 'GET' && request.method !== 'POST') {
    throw new Ec2ApiError(
      'InvalidRequest',
      `The control API answers GET and POST, not ${request.method}`,
    );
  }
  if (url.pathname !== '/') {
    throw new Ec2ApiError('InvalidRequest', 'The control API answers on the path /');
  }

  const query = parseQueryString(url.search.slice(1));
  const values = parseQueryString(formBody(request, body), new Map(query));

  const verified = await verifySignature(
    {
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(query),
      headers: request.headersDistinct,
      body,
    },
    {
      service: SIGNING_SERVICE,
      nowMs,
      findSecret: (accessKeyId, token) => options.findCaller(accessKeyId, token, nowMs),
    },
  );
  const caller = verified.key.caller;
  trace.caller = caller;

  const operation = operationFor(values);
  trace.action = operation.action;
  checkParameterNames(operation, values);

  const result = operation.run(
    { params: new QueryParameters(values), caller, signingRegion: verified.region },
    { instances: options.instances, updater: options.updater },
  );
  return {
    ...trace,
    status: 200,
    body: renderSuccess(operation.action, requestId, result.members),
    ...(result.instanceId === undefined ? {} : { instanceId: result.instanceId }),
  };
}

/** A POST's form body; the EC2 SDKs send `application/x-www-form-urlencoded; charset=utf-8`. */
function formBody(request: IncomingMessage, body: Buffer): string {
  if (body.length === 0) return '';
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (contentType !== FORM_CONTENT_TYPE) {
    throw new Ec2ApiError('InvalidRequest', `The request body must be ${FORM_CONTENT_TYPE}`);
  }
  return body.toString('utf8');
}

function operationFor(values: ReadonlyMap<string, string>): Ec2Operation {
  const action = values.get('Action');
  if (action === undefined || action === '') {
    throw new Ec2ApiError('MissingAction', 'The request must contain the parameter Action');
  }

  const operation = EC2_OPERATIONS.get(action);
  if (operation === undefined) {
    const known = [...EC2_OPERATIONS.keys()].join(', ');
    throw new Ec2ApiError(
      'InvalidAction',
      `The action ${action.slice(0, 64)} is not valid for this web service (imdsd implements ${known})`,
    );
  }

  const version = values.get('Version');
  if (version === undefined) {
    throw new Ec2ApiError('MissingParameter', 'The request must contain the parameter Version');
  }
  if (version !== EC2_API_VERSION) {
    throw new Ec2ApiError(
      'NoSuchVersion',
      `The requested version (${version.slice(0, 32)}) of service AmazonEC2 does not exist; imdsd speaks ${EC2_API_VERSION}`,
    );
  }
  return operation;
}

/** EC2 refuses parameters the action does not have, so a typo does not pass silently. */
function checkParameterNames(operation: Ec2Operation, values: ReadonlyMap<string, string>): void {
  for (const name of values.keys()) {
    if (name === 'Action' || name === 'Version' || operation.parameters.test(name)) continue;
    throw new Ec2ApiError(
      'UnknownParameter',
      `The parameter ${name.slice(0, 64)} is not recognized`,
    );
  }
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BODY_BYTES) {
        request.removeAllListeners('data');
        request.resume();
        reject(
          new Ec2ApiError(
            'RequestEntityTooLarge',
            `The request body is larger than ${MAX_REQUEST_BODY_BYTES} bytes`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function failure(error: unknown, requestId: string, trace: Partial<Outcome>): Outcome {
  if (error instanceof Ec2ApiError) {
    return {
      ...trace,
      status: error.httpStatus,
      body: renderError(error.ec2Code, error.message, requestId),
      ec2Code: error.ec2Code,
    };
  }
  const internal = new Ec2ApiError('InternalError', 'An internal error has occurred');
  return {
    ...trace,
    status: internal.httpStatus,
    body: renderError(internal.ec2Code, internal.message, requestId),
    ec2Code: internal.ec2Code,
    error,
  };
}

function send(response: ServerResponse, outcome: Outcome, requestId: string): void {
  if (response.headersSent) return;
  response.writeHead(outcome.status, {
    'Content-Type': EC2_XML_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(outcome.body),
    Server: 'AmazonEC2',
    'x-amzn-RequestId': requestId,
    ...(outcome.status === 413 ? { Connection: 'close' } : {}),
  });
  response.end(outcome.body);
}

/** One line per request: errors at error level, refusals at info, reads at debug, changes at info. */
function logOutcome(
  logger: Logger,
  request: IncomingMessage,
  outcome: Outcome,
  requestId: string,
  durationMs: number,
): void {
  const fields = {
    requestId,
    action: outcome.action,
    principal: outcome.caller?.principal,
    instanceId: outcome.instanceId,
    status: outcome.status,
    ec2Code: outcome.ec2Code,
    remoteAddress: unmapIpv4(request.socket.remoteAddress ?? ''),
    durationMs,
  };
  if (outcome.status >= 500) {
    logger.error({ ...fields, err: outcome.error }, 'control API request failed');
  } else if (outcome.status >= 400) {
    logger.info(fields, 'control API request refused');
  } else if (outcome.instanceId !== undefined) {
    logger.info(fields, 'metadata options modified');
  } else {
    logger.debug(fields, 'control API request answered');
  }
}
