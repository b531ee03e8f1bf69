import { connect } from 'node:net';
import type { LoadRequest } from './scenarios.ts';

/**
 * A closed-loop load of requests, each on a new connection that the server closes after its
 * answer, as IMDS does. For runs under valgrind, where wrk's timing is meaningless and only the
 * count of requests matters. Bounded: every connection gives up after `connectionTimeoutMs`.
 */
export interface NewConnectionLoad {
  port: number;
  /** Sent in turn, one per connection. */
  requests: readonly LoadRequest[];
  count: number;
  concurrency: number;
  connectionTimeoutMs: number;
}

export interface LoadOutcome {
  answered: number;
  /** Connections that ended without a 200 status line: refused, timed out or answered otherwise. */
  failed: number;
}

export async function sendOnNewConnections(load: NewConnectionLoad): Promise<LoadOutcome> {
  const wire = load.requests.map((request) => requestBytes(request, load.port));
  const outcome: LoadOutcome = { answered: 0, failed: 0 };
  let started = 0;

  const worker = async (): Promise<void> => {
    while (started < load.count) {
      const bytes = wire[started % wire.length] as Buffer;
      started += 1;
      if (await exchangeOnce(load.port, bytes, load.connectionTimeoutMs)) outcome.answered += 1;
      else outcome.failed += 1;
    }
  };
  await Promise.all(Array.from({ length: load.concurrency }, worker));
  return outcome;
}

/** The request as wrk writes it: request line, Host, the scenario's headers. */
function requestBytes(request: LoadRequest, port: number): Buffer {
  const headers = Object.entries(request.headers).map(([name, value]) => `${name}: ${value}\r\n`);
  const head = `${request.method} ${request.path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`;
  return Buffer.from(`${head}${headers.join('')}\r\n`, 'latin1');
}

/** True when the server answered 200 and then closed the connection. */
function exchangeOnce(port: number, bytes: Buffer, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let statusLine = '';
    socket.setTimeout(timeoutMs, () => socket.destroy());
    socket.once('connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      if (statusLine.length < 12) statusLine += chunk.toString('latin1', 0, 12);
    });
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(statusLine.startsWith('HTTP/1.1 200')));
  });
}
