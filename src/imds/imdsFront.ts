import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Delivery } from '../credentials/roleCredentials.ts';
import type { EmulatedInstance } from '../instances/instance.ts';
import type { InstanceDirectory } from '../instances/instanceDirectory.ts';
import type { Logger } from '../log.ts';
import { unmapIpv4, type ListenAddress } from '../net/address.ts';
import {
  checkSessionToken,
  mintSessionToken,
  parseTokenTtl,
  type TokenKeyRing,
} from '../tokens/sessionToken.ts';
import type { HopLimitControl } from './hopLimit.ts';
import {
  sendBadRequest,
  sendContent,
  sendForbidden,
  sendInternalError,
  sendMethodNotAllowed,
  sendNotFound,
  sendOptions,
  sendToken,
  sendUnauthorized,
} from './imdsResponses.ts';
import { METADATA_VERSIONS } from './instanceMetadataTree.ts';
import {
  findNode,
  renderListing,
  type DirectoryNode,
  type MetadataRequest,
} from './metadataNode.ts';
import { parseMetadataPath } from './metadataPath.ts';

/**
 * The IMDS protocol front: who is asking, token PUT, IMDSv1/v2 policy, the endpoint switch and
 * every status code, in the order the real service applies them (reference §1 to §3). It knows
 * nothing of where metadata or credentials come from: each instance's tree answers that.
 */
export interface ImdsFrontOptions {
  instances: InstanceDirectory;
  trees: ReadonlyMap<string, DirectoryNode>;
  tokenKeys: TokenKeyRing;
  hopLimit: HopLimitControl;
  logger: Logger;
  now?: () => number;
}

const TOKEN_ALLOW = 'OPTIONS, PUT';
const METADATA_ALLOW = 'GET, HEAD';
const TOKEN_TTL_REQUEST_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
const TOKEN_REQUEST_HEADER = 'x-aws-ec2-metadata-token';
const VERSIONS: ReadonlySet<string> = new Set(METADATA_VERSIONS);

export type ImdsRequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

/** The front, one request handler per listener: what a caller may reach depends on it. */
export type ImdsFront = (listener: Pick<ListenAddress, 'family'>) => ImdsRequestHandler;

export function createImdsFront(options: ImdsFrontOptions): ImdsFront {
  const now = options.now ?? Date.now;
  let requestCount = 0;

  return (listener) => (request, response) => {
    const nowMs = now();
    const requestId = ++requestCount;
    try {
      const outcome = route(options, listener.family, request, response, nowMs);
      if (outcome instanceof Promise) {
        outcome.then(
          () => logAnswered(options.logger, request, response, requestId),
          (error: unknown) => failed(options.logger, request, response, error, nowMs, requestId),
        );
      } else {
        logAnswered(options.logger, request, response, requestId);
      }
    } catch (error) {
      failed(options.logger, request, response, error, nowMs, requestId);
    }
  };
}

function route(
  options: ImdsFrontOptions,
  family: 4 | 6,
  request: IncomingMessage,
  response: ServerResponse,
  nowMs: number,
): void | Promise<void> {
  const head = request.method === 'HEAD';
  const instance =
    options.instances.forEveryCaller(family) ?? options.instances.forCaller(callerAddress(request));
  if (instance === undefined) return sendNotFound(response, head, nowMs);

  if (!reachableOnThisListener(instance, family, request)) {
    request.socket.destroy();
    return;
  }

  const metadataOptions = instance.metadataOptions;
  if (metadataOptions.httpEndpoint === 'disabled') return sendForbidden(response, nowMs);

  const path = parseMetadataPath(request.url ?? '');
  if (path === undefined) return sendNotFound(response, head, nowMs);

  const [version, category, item, ...rest] = path.segments;
  if (
    category === 'api' &&
    item === 'token' &&
    rest.length === 0 &&
    version !== undefined &&
    VERSIONS.has(version)
  ) {
    return tokenEndpoint(options, instance, family, request, response, version, nowMs);
  }

  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return sendMethodNotAllowed(response, METADATA_ALLOW, nowMs);
  }
  return metadata(options, instance, request, response, path.segments, nowMs);
}

/**
 * `PUT /latest/api/token`. A versioned path or an X-Forwarded-For header is refused with 403;
 * a missing or out-of-range TTL with 400. The response leaves with the instance's hop limit as
 * its IP TTL, and the connection closes after it, so no later packet (a retransmission
 * included) is sent with any other TTL.
 */
function tokenEndpoint(
  options: ImdsFrontOptions,
  instance: EmulatedInstance,
  family: 4 | 6,
  request: IncomingMessage,
  response: ServerResponse,
  version: string,
  nowMs: number,
): void {
  if (request.method === 'OPTIONS') return sendOptions(response, TOKEN_ALLOW, nowMs);
  if (request.method !== 'PUT') return sendMethodNotAllowed(response, TOKEN_ALLOW, nowMs);
  if (version !== 'latest') return sendForbidden(response, nowMs);
  if (request.headers['x-forwarded-for'] !== undefined) return sendForbidden(response, nowMs);

  const ttlSeconds = parseTokenTtl(singleHeader(request.headers[TOKEN_TTL_REQUEST_HEADER]));
  if (ttlSeconds === undefined) return sendBadRequest(response, false, nowMs);

  const token = mintSessionToken(options.tokenKeys, instance.instanceId, ttlSeconds, nowMs);
  const hopLimit = instance.metadataOptions.httpPutResponseHopLimit;
  options.hopLimit.setHopLimit(request.socket, hopLimit, family);
  sendToken(response, token, ttlSeconds, nowMs);
}

function metadata(
  options: ImdsFrontOptions,
  instance: EmulatedInstance,
  request: IncomingMessage,
  response: ServerResponse,
  segments: string[],
  nowMs: number,
): void | Promise<void> {
  const head = request.method === 'HEAD';
  const access = authorize(options, instance, request, nowMs);
  if (access.status === 'forbidden') return sendForbidden(response, nowMs);
  if (access.status !== 'granted') return sendUnauthorized(response, head, nowMs);

  const tree = options.trees.get(instance.instanceId);
  const metadataRequest: MetadataRequest = { instance, delivery: access.delivery, nowMs };
  const node = tree === undefined ? undefined : findNode(tree, segments, metadataRequest);
  if (node === undefined) return sendNotFound(response, head, nowMs);

  const ttl = access.tokenTtlSeconds;
  if (node.kind === 'directory')
    return sendContent(response, { body: renderListing(node, metadataRequest) }, ttl, head, nowMs);

  // Most leaves answer at once; only those that wait on a source (credentials) return a promise.
  const content = node.content(metadataRequest);
  if (content instanceof Promise)
    return content.then((resolved) => sendContent(response, resolved, ttl, head, nowMs));
  return sendContent(response, content, ttl, head, nowMs);
}

type Access =
  | { status: 'granted'; delivery: Delivery; tokenTtlSeconds: number | undefined }
  | { status: 'unauthorized' | 'forbidden' };

/**
 * IMDSv1 or v2, decided per request from the token header (reference §2, §3). An invalid or
 * expired token is refused with 401 in `optional` mode too: SDKs rely on that to fetch a new
 * token (JS re-enables token fetching on 401, cloud-init drops its token).
 */
function authorize(
  options: ImdsFrontOptions,
  instance: EmulatedInstance,
  request: IncomingMessage,
  nowMs: number,
): Access {
  const token = singleHeader(request.headers[TOKEN_REQUEST_HEADER]);
  if (token === undefined) {
    if (instance.metadataOptions.httpTokens === 'required') return { status: 'unauthorized' };
    return { status: 'granted', delivery: 'imdsv1', tokenTtlSeconds: undefined };
  }

  if (request.headers['x-forwarded-for'] !== undefined) return { status: 'forbidden' };

  const check = checkSessionToken(options.tokenKeys, instance.instanceId, token, nowMs);
  if (!check.valid) return { status: 'unauthorized' };

  const remainingSeconds = Math.ceil((check.expiresAtSeconds * 1000 - nowMs) / 1000);
  return { status: 'granted', delivery: 'imdsv2', tokenTtlSeconds: remainingSeconds };
}

/**
 * An IPv6 listener is an IPv6 endpoint like [fd00:ec2::254]: it answers only instances with
 * `httpProtocolIpv6: enabled`, and for the others it is as if it did not exist, so the
 * connection is dropped (reference §0). Loopback [::1] is a developer's listener and serves
 * every instance. IPv6 listeners take IPv6 connections only, and one to [::1] comes from
 * [::1], so the caller's address tells which endpoint it reached without asking every socket
 * for its local address.
 */
function reachableOnThisListener(
  instance: EmulatedInstance,
  family: 4 | 6,
  request: IncomingMessage,
): boolean {
  if (family === 4 || instance.metadataOptions.httpProtocolIpv6 === 'enabled') return true;
  return callerAddress(request) === '::1';
}

/**
 * The caller's source address. node asks the kernel for it (getpeername) and builds an object
 * per connection: under callgrind, 9,000 instructions of the 17,500 imdsd added to a bare
 * node:http server on an IMDSv1 GET. So the front asks only when the answer depends on it.
 */
function callerAddress(request: IncomingMessage): string {
  return unmapIpv4(request.socket.remoteAddress ?? '');
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** One line per request; the level follows the outcome, so success is quiet at `info`. */
function logAnswered(
  logger: Logger,
  request: IncomingMessage,
  response: ServerResponse,
  requestId: number,
): void {
  const status = response.statusCode;
  const level = status >= 500 ? 'error' : status >= 400 ? 'info' : 'debug';
  if (!logger.isLevelEnabled(level)) return;

  const remoteAddress = request.socket.remoteAddress;
  logger[level](
    { requestId, method: request.method, path: loggedPath(request), status, remoteAddress },
    'request answered',
  );
}

/** Paths are caller input: cap what one line can carry. */
function loggedPath(request: IncomingMessage): string {
  const path = request.url ?? '';
  return path.length > 256 ? `${path.slice(0, 256)}…` : path;
}

function failed(
  logger: Logger,
  request: IncomingMessage,
  response: ServerResponse,
  error: unknown,
  nowMs: number,
  requestId: number,
): void {
  logger.error(
    { err: error, requestId, method: request.method, path: loggedPath(request) },
    'request failed',
  );
  sendInternalError(response, nowMs);
}
