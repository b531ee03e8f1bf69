import type { TestNetwork } from './netns.ts';

/**
 * Low-level callers of the metadata service inside the test network: curl as scripts use it,
 * and a raw TCP client that counts every byte that reaches it.
 */

export const TOKEN_TTL_HEADER = 'X-aws-ec2-metadata-token-ttl-seconds: 60';
/** Long enough for any answer on an idle machine, short enough to wait out a dropped one. */
const CURL_TIMEOUT_SECONDS = 2;
/** For calls that must succeed: a loaded CI machine may take longer than the default. */
export const CURL_PATIENT_TIMEOUT_SECONDS = 6;

export interface CurlResult {
  exitCode: number | null;
  status: string;
  body: string;
  error: string;
}

/** `curl` with a short overall timeout; `status` is the HTTP status, `000` when none arrived. */
export async function curl(
  network: TestNetwork,
  namespace: string,
  url: string,
  extra: string[] = [],
  timeoutSeconds = CURL_TIMEOUT_SECONDS,
): Promise<CurlResult> {
  const result = await network.run(
    namespace,
    ['curl', '-sS', '-m', String(timeoutSeconds), '-o', '-', '-w', '\n%{http_code}', ...extra, url],
    { env: { PATH: process.env['PATH'] }, timeoutMs: (timeoutSeconds + 3) * 1000 },
  );
  const split = result.stdout.lastIndexOf('\n');
  return {
    exitCode: result.exitCode,
    body: result.stdout.slice(0, Math.max(split, 0)),
    status: result.stdout.slice(split + 1),
    error: result.stderr.trim(),
  };
}

export function curlToken(
  network: TestNetwork,
  namespace: string,
  endpoint: string,
  timeoutSeconds = CURL_TIMEOUT_SECONDS,
): Promise<CurlResult> {
  const put = ['-X', 'PUT', '-H', TOKEN_TTL_HEADER];
  return curl(network, namespace, `${endpoint}latest/api/token`, put, timeoutSeconds);
}

// Sends the token PUT on a plain TCP connection and counts what arrives within the wait.
const RAW_TOKEN_REQUEST_SCRIPT = `
const net = require('node:net');
const [host, waitMs] = process.argv.slice(1);
const socket = net.connect({ host, port: 80 });
let bytes = 0;
socket.on('data', (chunk) => (bytes += chunk.length));
socket.on('error', (error) => process.stderr.write(String(error)));
socket.on('connect', () => {
  const localPort = socket.localPort;
  socket.write('PUT /latest/api/token HTTP/1.1\\r\\nHost: ' + host + '\\r\\n${TOKEN_TTL_HEADER}\\r\\n\\r\\n');
  setTimeout(() => {
    process.stdout.write(JSON.stringify({ localPort, bytes }));
    socket.destroy();
  }, Number(waitMs));
});
`;

export interface RawTokenRequest {
  /** The client's port, by which the server's side of the connection is found. */
  localPort: number;
  bytesReceived: number;
}

export async function rawTokenRequest(
  network: TestNetwork,
  namespace: string,
  host: string,
  waitMs: number,
): Promise<RawTokenRequest> {
  const result = await network.run(
    namespace,
    [process.execPath, '-e', RAW_TOKEN_REQUEST_SCRIPT, host, String(waitMs)],
    {
      env: { PATH: process.env['PATH'] },
      timeoutMs: waitMs + 5_000,
    },
  );
  const output = JSON.parse(result.stdout || '{}') as { localPort?: number; bytes?: number };
  if (output.localPort === undefined || output.bytes === undefined) {
    throw new Error(`raw client did not connect: ${result.stderr}`);
  }
  return { localPort: output.localPort, bytesReceived: output.bytes };
}

/** The server side of one TCP connection, from the kernel's counters (`ss -ti`). */
export interface ServerConnection {
  state: string;
  bytesSent: number;
  bytesRetransmitted: number;
  /** Bytes (and FIN) the peer acknowledged after the handshake; 0 when nothing sent arrived. */
  bytesAcked: number;
}

export async function serverConnection(
  network: TestNetwork,
  peerPort: number,
): Promise<ServerConnection | undefined> {
  const result = await network.run(network.imds, ['ss', '-tinHOa', `( dport = :${peerPort} )`], {
    env: { PATH: process.env['PATH'] },
    timeoutMs: 5_000,
  });
  const line = result.stdout.split('\n').find((text) => text.trim() !== '');
  if (line === undefined) return undefined;

  // ss leaves out counters that are zero.
  const counter = (name: string): number =>
    Number(new RegExp(`\\b${name}:(\\d+)`).exec(line)?.[1] ?? 0);
  return {
    state: line.split(/\s+/)[0] ?? '',
    bytesSent: counter('bytes_sent'),
    bytesRetransmitted: counter('bytes_retrans'),
    bytesAcked: counter('bytes_acked'),
  };
}
