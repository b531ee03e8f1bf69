import { writeFileSync } from 'node:fs';
import { expectOk } from './httpExchange.ts';
import type { LoadRequest } from './scenarios.ts';

/**
 * Records imdsd's answer to each request the scenarios send, for the ceiling server to replay
 * byte for byte (ceilingServer.mjs). The Date header is left out: node:http writes its own,
 * of the same length.
 */
export async function recordResponses(
  imdsdUrl: string,
  requests: readonly LoadRequest[],
  file: string,
): Promise<void> {
  const entries = [];
  for (const sent of requests) {
    const answer = await expectOk(imdsdUrl, sent);
    entries.push({
      method: sent.method,
      path: sent.path,
      status: answer.status,
      headers: withoutDate(answer.rawHeaders),
      body: answer.body.toString('base64'),
    });
  }
  writeFileSync(file, JSON.stringify(entries));
}

function withoutDate(rawHeaders: readonly string[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = rawHeaders[index] as string;
    if (name.toLowerCase() !== 'date') kept.push(name, rawHeaders[index + 1] as string);
  }
  return kept;
}
