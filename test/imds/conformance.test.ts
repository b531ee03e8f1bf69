import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchToken, send } from '../support/rawHttp.ts';
import { startTestServer, type TestServer } from '../support/startTestServer.ts';
import { CONFORMANCE, PROFILES, type ConformanceRow, type TokenKind } from './conformanceTable.ts';

/** Runs every row of the conformance table against a real server on loopback. */

const clock = { offsetMs: 0 };
const now = (): number => Date.now() + clock.offsetMs;

async function tokenOf(kind: TokenKind, baseUrl: string): Promise<string> {
  switch (kind) {
    case 'valid':
      return fetchToken(baseUrl);
    case 'garbage':
      return 'not-a-token';
    case 'tampered': {
      const token = await fetchToken(baseUrl);
      const flipped = token[30] === 'A' ? 'B' : 'A';
      return token.slice(0, 30) + flipped + token.slice(31);
    }
    case 'expired': {
      const token = await fetchToken(baseUrl, 1);
      clock.offsetMs += 2_000;
      return token;
    }
  }
}

function assertMatches(actual: string, expected: string | RegExp, what: string): void {
  if (typeof expected === 'string') assert.equal(actual, expected, what);
  else assert.match(actual, expected, what);
}

async function check(row: ConformanceRow, baseUrl: string): Promise<void> {
  const headers = { ...row.request.headers };
  if (row.request.token !== undefined)
    headers['X-aws-ec2-metadata-token'] = await tokenOf(row.request.token, baseUrl);

  const response = await send(baseUrl, {
    method: row.request.method ?? 'GET',
    path: row.request.path,
    headers,
  });

  assert.equal(response.status, row.expect.status, 'status');
  for (const [name, expected] of Object.entries(row.expect.headers ?? {})) {
    const actual = response.headers[name];
    if (expected === null) assert.equal(actual, undefined, `header ${name} must be absent`);
    else assertMatches(actual ?? '(absent)', expected, `header ${name}`);
  }
  if (row.expect.body !== undefined) assertMatches(response.text, row.expect.body, 'body');
}

for (const profile of Object.keys(PROFILES) as Array<keyof typeof PROFILES>) {
  describe(`IMDS conformance, ${profile} instance`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(PROFILES[profile], { now });
    });
    after(() => server.close());

    for (const row of CONFORMANCE.filter((candidate) => candidate.profile === profile)) {
      it(`${row.behaviour} [${row.source}]`, async () => {
        clock.offsetMs = 0;
        await check(row, server.baseUrl);
      });
    }
  });
}

describe('IMDS conformance, every response', () => {
  it('carries Server, Connection: close and Date, after the body headers, as real IMDS does', async () => {
    const server = await startTestServer(PROFILES.optional);
    try {
      const token = await send(server.baseUrl, {
        method: 'PUT',
        path: '/latest/api/token',
        headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '300' },
      });
      assert.deepEqual(
        token.rawHeaders.map(([name]) => name),
        [
          'X-Aws-Ec2-Metadata-Token-Ttl-Seconds',
          'Content-Type',
          'Content-Length',
          'Date',
          'Server',
          'Connection',
        ],
      );
      assert.match(
        token.headers['date'] ?? '',
        /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/,
      );
    } finally {
      await server.close();
    }
  });
});
