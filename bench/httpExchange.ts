import { request } from 'node:http';
import type { LoadRequest } from './scenarios.ts';

/** One response as received, headers in wire order. */
export interface Exchange {
  status: number;
  rawHeaders: string[];
  body: Buffer;
}

/** Sends one request on a new connection (no agent, no keep-alive) and reads the whole answer. */
export function exchange(baseUrl: string, sent: LoadRequest, timeoutMs = 2_000): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const outgoing = request(new URL(sent.path, baseUrl), {
      method: sent.method,
      headers: sent.headers,
      agent: false,
    });
    outgoing.setTimeout(timeoutMs, () =>
      outgoing.destroy(new Error(`${sent.method} ${sent.path}: no answer in ${timeoutMs} ms`)),
    );
    outgoing.once('error', reject);
    outgoing.once('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('error', reject);
      response.once('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          rawHeaders: response.rawHeaders,
          body: Buffer.concat(chunks),
        }),
      );
    });
    outgoing.end();
  });
}

/** Like exchange(), but anything but a 200 is an error naming the request. */
export async function expectOk(baseUrl: string, sent: LoadRequest): Promise<Exchange> {
  const answer = await exchange(baseUrl, sent);
  if (answer.status !== 200)
    throw new Error(`${sent.method} ${sent.path} on ${baseUrl} answered ${answer.status}`);
  return answer;
}
