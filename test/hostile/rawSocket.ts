import { connect, type Socket } from 'node:net';

/**
 * A client that speaks raw bytes, for requests no HTTP library would send. It reports what
 * came back and whether the server closed the connection.
 */
export interface RawAnswer {
  text: string;
  /** The status code of the first response line, if one came. */
  status: number | undefined;
  /** How many HTTP status lines came back. */
  responses: number;
  closedByServer: boolean;
}

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3}) /;

export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Sends `bytes`, then reads until the server closes or `timeoutMs` passes. */
export async function rawExchange(
  port: number,
  bytes: string | Buffer,
  timeoutMs = 2_000,
): Promise<RawAnswer> {
  const socket = await openSocket(port);
  const answer = readAnswer(socket, timeoutMs);
  socket.write(bytes);
  return answer;
}

export function readAnswer(socket: Socket, timeoutMs: number): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const timer = setTimeout(() => socket.destroy(), timeoutMs);

    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // a reset is a closed connection, reported below
    socket.once('end', () => (closedByServer = true));
    socket.once('close', (hadError) => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const status = STATUS_LINE.exec(text)?.[1];
      resolve({
        text,
        status: status === undefined ? undefined : Number(status),
        responses: text.match(/HTTP\/1\.[01] \d{3} /g)?.length ?? 0,
        closedByServer: closedByServer || hadError,
      });
    });
  });
}

/** A well-formed request line and head, CRLF-terminated. */
export function head(requestLine: string, headers: readonly string[] = []): string {
  return [requestLine, 'Host: 127.0.0.1', ...headers, '', ''].join('\r\n');
}
