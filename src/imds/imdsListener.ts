import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { ImdsdError } from '../errors.ts';
import { formatListenAddress, type ListenAddress } from '../net/address.ts';
import { capConnections } from './connectionCap.ts';
import type { ImdsRequestHandler } from './imdsFront.ts';

/**
 * Bounds that keep one listener answering under hostile or broken clients: small headers,
 * a deadline for the head and for the whole request, and a cap on open connections. The real
 * service closes every connection after one response, so connections never idle between
 * requests.
 */
export interface ListenerLimits {
  maxHeaderBytes: number;
  /** The request head must be complete this long after the connection opened (408 if not). */
  headersTimeoutMs: number;
  /** The whole request, body included; at least headersTimeoutMs (node requires it). */
  requestTimeoutMs: number;
  maxConnections: number;
  /**
   * How often node checks the two deadlines. Its default, 30 s, would let a slow client hold a
   * connection up to 30 s past them.
   */
  deadlineCheckIntervalMs: number;
}

export const LISTENER_LIMITS: Readonly<ListenerLimits> = {
  maxHeaderBytes: 8 * 1024,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  maxConnections: 4_096,
  deadlineCheckIntervalMs: 1_000,
};

export interface BoundListener {
  /** The address as bound: a requested port 0 is replaced by the real one. */
  address: ListenAddress;
  server: Server;
}

export async function listen(
  address: ListenAddress,
  handler: ImdsRequestHandler,
  limits: Readonly<ListenerLimits> = LISTENER_LIMITS,
): Promise<BoundListener> {
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: limits.deadlineCheckIntervalMs,
      keepAlive: false,
    },
    handler,
  );
  const cap = capConnections(server, limits.maxConnections);

  // A parse error can come after a head was handed to the front (a bad chunk in the body):
  // that request is answered or being answered, so the connection is closed with no second reply.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (cap.awaitsRequest(socket)) answerClientError(error, socket);
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = formatListenAddress(address);
      reject(
        new ImdsdError(
          'LISTEN_FAILED',
          `cannot listen on ${where} (${error.code ?? error.message})`,
          { cause: error },
        ),
      );
    });
    server.listen(
      { host: address.host, port: address.port, ipv6Only: address.family === 6 },
      resolve,
    );
  });

  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : address.port;
  return { address: { ...address, port }, server };
}

/** Malformed requests get a bare 400 and a closed connection, as Node's own parser would send. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? '431 Request Header Fields Too Large'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : '400 Bad Request';
  socket.end(
    `HTTP/1.1 ${status}\r\nServer: EC2ws\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
  );
}

export async function closeListener(listener: BoundListener): Promise<void> {
  await new Promise<void>((resolve) => {
    listener.server.close(() => resolve());
    listener.server.closeAllConnections();
  });
}
