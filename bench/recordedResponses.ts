import { writeFileSync } from 'node:fs';
import { expectOk } from './httpExchange.ts';
import { SCENARIOS, TOKEN_PATH, TOKEN_TTL_HEADER, type LoadRequest } from './scenarios.ts';
import { startImdsdTarget } from './targets.ts';

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

/** imdsd's answer to every request any scenario sends, for the ceiling to replay. */
export async function recordCeilingResponses(file: string): Promise<void> {
  const imdsd = await startImdsdTarget({ state: ':memory:' });
  try {
    const token = await fetchSessionToken(imdsd.baseUrl);
    const requests = SCENARIOS.flatMap((scenario) =>
      scenario.requests({ roleName: imdsd.roleName, token }),
    );
    await recordResponses(imdsd.baseUrl, requests, file);
  } finally {
    await imdsd.stop();
  }
}

export async function fetchSessionToken(baseUrl: string): Promise<string> {
  const tokenPut: LoadRequest = {
    method: 'PUT',
    path: TOKEN_PATH,
    headers: { [TOKEN_TTL_HEADER]: '21600' },
  };
  return (await expectOk(baseUrl, tokenPut)).body.toString();
}
