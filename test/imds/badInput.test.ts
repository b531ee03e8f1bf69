import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { send } from '../support/rawHttp.ts';
import { startTestServer, type TestServer } from '../support/startTestServer.ts';

/** Bad input gets a 4xx and never takes the server down or shows its internals. */

function rawExchange(baseUrl: string, bytes: string): Promise<string> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer in 5 s')));
    socket.end(bytes);
  });
}

describe('bad input', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  // The other shapes of hostile input are in test/hostile/; these two are issue 2's own.
  const cases: Array<[string, string, RegExp]> = [
    [
      'a 10 kB path',
      `GET /latest/${'a'.repeat(10_240)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      /^HTTP\/1\.1 4\d\d /,
    ],
    [
      'an unknown method',
      'BREW /latest/meta-data/ HTTP/1.1\r\nHost: x\r\n\r\n',
      /^HTTP\/1\.1 4\d\d /,
    ],
  ];

  for (const [what, bytes, expected] of cases) {
    it(`${what} is refused with a 4xx`, async () => {
      const answer = await rawExchange(server.baseUrl, bytes);
      assert.match(answer, expected);
      assert.doesNotMatch(answer, /Error|at .*\.(ts|js):\d+/, 'no internals in the answer');
    });
  }

  it('the server keeps answering well-formed requests afterwards', async () => {
    const response = await send(server.baseUrl, { path: '/latest/meta-data/instance-id' });
    assert.equal(response.status, 200);
    assert.doesNotMatch(server.logText(), /"level":50/, 'no request ended in a server error');
  });
});
