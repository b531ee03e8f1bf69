import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { leakedSecrets, startHostileServer, type HostileServer } from './hostileServer.ts';
import { head, rawExchange, type RawAnswer } from './rawSocket.ts';

/**
 * Requests no SDK sends, written byte by byte on a raw socket. Each is refused with a clear 4xx,
 * or its connection is closed, and a well-formed caller is answered right after it. Secrets
 * (session tokens, secret keys, session tokens of role credentials) never show in an answer or
 * a log line.
 */

let server: HostileServer;
const answers: string[] = [];

before(async () => {
  server = await startHostileServer();
  assert.equal((await server.fetchCredentials()).status, 200);
});

after(async () => {
  await server.close();
});

async function send(bytes: string | Buffer): Promise<RawAnswer> {
  const answer = await rawExchange(server.port, bytes);
  answers.push(answer.text);
  return answer;
}

/** A refusal: a 4xx (the one given, if any) and a closed connection, or a close with no answer. */
function assertRefused(answer: RawAnswer, status?: number): void {
  assert.ok(answer.closedByServer, 'the server closes the connection');
  if (answer.status === undefined) return;
  if (status === undefined)
    assert.ok(answer.status >= 400 && answer.status < 500, `4xx, got:\n${answer.text}`);
  else assert.equal(answer.status, status, answer.text);
  assert.equal(answer.responses, 1, 'one answer, never a second');
}

async function assertStillServing(): Promise<void> {
  const credentials = await server.fetchCredentials();
  assert.equal(credentials.status, 200, 'a well-formed caller is served after the hostile request');
}

describe('malformed request lines and heads get 400 and a closed connection', () => {
  const cases: [string, string | Buffer][] = [
    ['garbage instead of a request line', 'GARBAGE\r\n\r\n'],
    ['a method without a target', 'GET\r\n\r\n'],
    ['an unknown HTTP version', 'GET /latest/meta-data/instance-id HTTP/9.9\r\nHost: x\r\n\r\n'],
    [
      'a NUL byte inside the target',
      'GET /latest/meta-data/\0instance-id HTTP/1.1\r\nHost: x\r\n\r\n',
    ],
    ['a space inside the target', 'GET /latest/meta-data/instance id HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost x\r\n\r\n'],
    [
      'a NUL byte inside a header value',
      'GET / HTTP/1.1\r\nHost: x\r\nX-aws-ec2-metadata-token: a\0b\r\n\r\n',
    ],
    [
      'an obsolete folded header line',
      'GET / HTTP/1.1\r\nHost: x\r\nX-aws-ec2-metadata-token: a\r\n b\r\n\r\n',
    ],
    [
      'binary noise',
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x00, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]),
    ],
  ];

  for (const [name, bytes] of cases) {
    test(name, async () => {
      assertRefused(await send(bytes), 400);
      await assertStillServing();
    });
  }
});

describe('a head over the size limit gets 431', () => {
  test('one huge header', async () => {
    assertRefused(
      await send(
        head('GET /latest/meta-data/instance-id HTTP/1.1', [`X-Pad: ${'a'.repeat(9_000)}`]),
      ),
      431,
    );
    await assertStillServing();
  });

  test('thousands of small headers', async () => {
    const headers = Array.from({ length: 3_000 }, (_, index) => `X-${index}: 1`);
    assertRefused(await send(head('GET /latest/meta-data/instance-id HTTP/1.1', headers)), 431);
    await assertStillServing();
  });
});

describe('request smuggling shapes are refused, never read as two requests', () => {
  const tokenPut = 'PUT /latest/api/token HTTP/1.1';
  const ttl = 'X-aws-ec2-metadata-token-ttl-seconds: 60';
  const smuggled = head('GET /latest/meta-data/iam/security-credentials/ HTTP/1.1');

  const badHeads: [string, string][] = [
    [
      'Content-Length and Transfer-Encoding together',
      head(tokenPut, [ttl, 'Content-Length: 4', 'Transfer-Encoding: chunked']) + '0\r\n\r\n',
    ],
    [
      'two different Content-Length headers',
      head(tokenPut, [ttl, 'Content-Length: 0', 'Content-Length: 60']) + smuggled,
    ],
    [
      'a Content-Length that is not a number',
      head(tokenPut, [ttl, 'Content-Length: 1x']) + smuggled,
    ],
    [
      'a Transfer-Encoding other than chunked last',
      head(tokenPut, [ttl, 'Transfer-Encoding: chunked, identity']) + smuggled,
    ],
    [
      'an obfuscated Transfer-Encoding',
      head(tokenPut, [ttl, 'Transfer-Encoding : chunked']) + '0\r\n\r\n' + smuggled,
    ],
  ];

  for (const [name, bytes] of badHeads) {
    test(name, async () => {
      assertRefused(await send(bytes), 400);
      await assertStillServing();
    });
  }

  test('a bad chunk after a good head: the head is answered once, then the connection closes', async () => {
    const answer = await send(
      head(tokenPut, [ttl, 'Transfer-Encoding: chunked']) + 'zz\r\n' + smuggled,
    );
    assert.ok(answer.closedByServer);
    assert.ok(answer.responses <= 1, `never a second answer:\n${answer.text}`);
    await assertStillServing();
  });

  test('a second request pipelined behind the first is never answered', async () => {
    const answer = await send(head('GET /latest/meta-data/instance-id HTTP/1.1') + smuggled);
    assert.equal(answer.status, 200);
    assert.equal(answer.responses, 1, 'IMDS answers one request per connection, then closes it');
    assert.ok(answer.closedByServer);
    await assertStillServing();
  });

  test('a body on a GET is ignored, not read as a request', async () => {
    // RFC 9110 §9.3.1: a GET body has no meaning. It is read by its Content-Length and dropped;
    // the one answer is for the GET, and the connection closes after it.
    const answer = await send(
      head('GET /latest/meta-data/instance-id HTTP/1.1', [`Content-Length: ${smuggled.length}`]) +
        smuggled,
    );
    assert.equal(answer.status, 200);
    assert.equal(answer.responses, 1);
    assert.ok(answer.closedByServer);
    assert.ok(answer.text.endsWith('i-0123456789abcdef0'), 'the GET itself is answered');
    await assertStillServing();
  });
});

describe('absurd token TTLs get 400', () => {
  const ttls = [
    '0',
    '-1',
    '21601',
    '99999999999999999999999999',
    '1e3',
    '0x10',
    '60.5',
    '',
    '+60',
    '60, 60',
    '６０',
  ];

  for (const ttl of ttls) {
    test(`TTL ${JSON.stringify(ttl)}`, async () => {
      const answer = await send(
        head('PUT /latest/api/token HTTP/1.1', [`X-aws-ec2-metadata-token-ttl-seconds: ${ttl}`]),
      );
      assertRefused(answer, 400);
      await assertStillServing();
    });
  }

  test('a TTL header sent twice', async () => {
    const ttl = 'X-aws-ec2-metadata-token-ttl-seconds: 60';
    assertRefused(await send(head('PUT /latest/api/token HTTP/1.1', [ttl, ttl])), 400);
  });
});

describe('token-shaped garbage gets 401', () => {
  const real = (): string => server.secrets[0] as string;
  const flipped = (text: string, index: number): string =>
    text.slice(0, index) + (text[index] === 'A' ? 'B' : 'A') + text.slice(index + 1);

  const tokens: [string, () => string][] = [
    ['56 characters of the token alphabet', () => `${'A'.repeat(54)}==`],
    ['the real prefix and garbage', () => `AQAEA${'x'.repeat(49)}==`],
    ['a real token with one character changed', () => flipped(real(), 30)],
    ['a real token in lower case', () => real().toLowerCase()],
    ['a real token without its padding', () => real().slice(0, 54)],
    ['a real token with a character appended', () => `${real()}A`],
    ['a real token twice', () => `${real()}${real()}`],
    ['a long run of characters', () => 'A'.repeat(6_000)],
    ['a JSON web token', () => 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.'],
  ];

  for (const [name, token] of tokens) {
    test(name, async () => {
      const answer = await send(
        head('GET /latest/meta-data/instance-id HTTP/1.1', [
          `X-aws-ec2-metadata-token: ${token()}`,
        ]),
      );
      assertRefused(answer, 401);
      await assertStillServing();
    });
  }

  test('the token header sent twice, once valid', async () => {
    const headers = [`X-aws-ec2-metadata-token: ${real()}`, 'X-aws-ec2-metadata-token: AAAA'];
    assertRefused(await send(head('GET /latest/meta-data/instance-id HTTP/1.1', headers)), 401);
  });
});

describe('paths that try to leave the tree are not found', () => {
  const paths = [
    '/latest/meta-data/../meta-data/instance-id',
    '/latest/meta-data/./instance-id',
    '/latest/meta-data/%2e%2e/meta-data/instance-id',
    '/latest%2Fmeta-data%2Finstance-id',
    '/latest/meta-data/instance-id%00',
    '/latest/meta-data/instance-id%2500',
    '/latest/meta-data/iam/security-credentials/../../../../etc/passwd',
    '/latest/meta-data/iam/security-credentials/..%2f..%2finstance-id',
    '/latest/meta-data\\instance-id',
    `/latest/meta-data/${'a/'.repeat(1_000)}`,
    'http://169.254.169.254/latest/meta-data/instance-id',
    '*',
  ];

  for (const path of paths) {
    test(path.length > 60 ? `${path.slice(0, 60)}…` : path, async () => {
      const answer = await send(head(`GET ${path} HTTP/1.1`));
      assertRefused(answer, 404);
      await assertStillServing();
    });
  }
});

test('no secret appears in any hostile answer or log line', () => {
  assert.ok(server.secrets.length >= 3, 'secrets were issued during the test');
  assert.deepEqual(leakedSecrets(server.secrets, answers), [], 'secrets in answers');

  // Tokens a hostile request was issued (a PUT whose trailing bytes were bad) stay out of logs too.
  const tokensInAnswers = answers.flatMap((text) => text.match(/[A-Za-z0-9_-]{54}==/g) ?? []);
  assert.deepEqual(
    leakedSecrets([...server.secrets, ...tokensInAnswers], server.logLines),
    [],
    'secrets in log lines',
  );
  assert.ok(server.logLines.length > 0, 'the log was captured');
});
