import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { ImdsdError } from '../errors.ts';
import { formatListenAddress, type ListenAddress } from '../net/address.ts';
import type { ImdsRequestHandler } from './imdsFront.ts';

/**
 * Bounds that keep one listener answering under hostile or broken clients: small headers,
 * a deadline for the whole request, and a cap on open connections. The real service closes
 * every connection after one response, so connections never idle between requests.
 */
export const LISTENER_LIMITS = {
  maxHeaderBytes: 8 * 1024,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  maxConnections: 4_096,
} as const;

export interface BoundListener {
  /** The address as bound: a requested port 0 is replaced by the real one. */
  address: ListenAddress;
  server: Server;
}

export async function listen(address: ListenAddress, handler: ImdsRequestHandler): Promise<BoundListener> {
  const server = createServer(
    {
      maxHeaderSize: LISTENER_LIMITS.maxHeaderBytes,
      headersTimeout: LISTENER_LIMITS.headersTimeoutMs,
      requestTimeout: LISTENER_LIMITS.requestTimeoutMs,
      keepAlive: false,
    },
    handler,
  );
  server.maxConnections = LISTENER_LIMITS.maxConnections;
  server.on('clientError', answerClientError);

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = formatListenAddress(address);
      reject(new ImdsdError('LISTEN_FAILED', `cannot listen on ${where} (${error.code ?? error.message})`, { cause: error }));
    });
    server.listen({ host: address.host, port: address.port, ipv6Only: address.family === 6 }, resolve);
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
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nServer: EC2ws\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
}

export async function closeListener(listener: BoundListener): Promise<void> {
  await new Promise<void>((resolve) => {
    listener.server.close(() => resolve());
    listener.server.closeAllConnections();
  });
}
