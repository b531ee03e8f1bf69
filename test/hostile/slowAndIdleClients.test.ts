import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { leakedSecrets, startHostileServer, type HostileServer } from './hostileServer.ts';
import { head, openSocket, readAnswer } from './rawSocket.ts';

/**
 * Clients that hold connections instead of sending requests: one byte a second, or nothing at
 * all, by the thousand. The listener bounds the time a head and a request may take and the
 * number of open connections; the limits are set small here (LISTENER_LIMITS in
 * src/imds/imdsListener.ts has the defaults) so that the test takes seconds, not minutes.
 */

const LIMITS = {
  headersTimeoutMs: 1_000,
  requestTimeoutMs: 1_500,
  deadlineCheckIntervalMs: 100,
  maxConnections: 200,
};
const IDLE_CONNECTIONS = 2_000;

let server: HostileServer;

before(async () => {
  server = await startHostileServer(LIMITS);
});

after(async () => {
  await server.close();
});

describe('a client sending one byte a second', () => {
  test('gets 408 and a closed connection once the head deadline passes, while others are served', async () => {
    const socket = await openSocket(server.port);
    const answer = readAnswer(socket, 5_000);
    const bytes = head('GET /latest/meta-data/instance-id HTTP/1.1');

    let sent = 0;
    const trickle = setInterval(() => {
      if (socket.writable && sent < bytes.length) socket.write(bytes.charAt(sent++));
    }, 1_000);
    trickle.unref();
    socket.write(bytes.charAt(sent++));

    assert.equal((await server.fetchCredentials()).status, 200, 'served during the trickle');
    const result = await answer;
    clearInterval(trickle);

    // Within the 5 s the reader waits: with node's default 30 s deadline check it would not be.
    assert.equal(result.status, 408, result.text);
    assert.ok(result.closedByServer);
    assert.equal((await server.fetchCredentials()).status, 200, 'served after it');
  });

  test('a body trickled after a complete head does not hold the connection', async () => {
    const socket = await openSocket(server.port);
    const answer = readAnswer(socket, 5_000);
    socket.write(
      head('PUT /latest/api/token HTTP/1.1', [
        'X-aws-ec2-metadata-token-ttl-seconds: 60',
        'Content-Length: 100',
      ]),
    );
    const trickle = setInterval(() => socket.writable && socket.write('x'), 1_000);
    trickle.unref();

    const result = await answer;
    clearInterval(trickle);
    assert.ok(result.closedByServer);
    assert.ok(result.status === 200 || result.status === 408, result.text);
    if (result.status === 200) server.secrets.push(result.text.slice(-56));
  });
});

describe(`${IDLE_CONNECTIONS} idle connections`, () => {
  const idle: Socket[] = [];
  const received = new Map<Socket, string>();
  const closed = new Set<Socket>();

  after(() => {
    for (const socket of idle) socket.destroy();
  });

  test(`the listener holds at most ${LIMITS.maxConnections} and still serves a caller during the flood`, async () => {
    for (let opened = 0; opened < IDLE_CONNECTIONS; opened += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, () => openSocket(server.port)));
      for (const socket of batch) {
        received.set(socket, '');
        socket.on('data', (chunk: Buffer) =>
          received.set(socket, `${received.get(socket)}${chunk.toString('latin1')}`),
        );
        socket.on('error', () => undefined);
        socket.once('close', () => closed.add(socket));
      }
      idle.push(...batch);
    }
    // The server drops the oldest waiting connections at once; their closes reach this side
    // a little later on a loaded machine, so wait (bounded) for the count to settle.
    const settledBy = Date.now() + 3_000;
    while (idle.length - closed.size > LIMITS.maxConnections && Date.now() < settledBy) {
      await sleep(20);
    }

    const stillOpen = idle.length - closed.size;
    assert.ok(stillOpen <= LIMITS.maxConnections, `${stillOpen} idle connections held open`);
    assert.ok(stillOpen >= LIMITS.maxConnections / 2, `the cap was reached (${stillOpen} open)`);

    assert.equal(
      (await server.instanceId()).status,
      200,
      'an IMDSv1 caller is served during the flood',
    );
    assert.equal(
      (await server.fetchCredentials()).status,
      200,
      'an IMDSv2 caller is served during the flood',
    );
  });

  test('the idle connections left are closed with 408 once the head deadline passes', async () => {
    const deadline = Date.now() + LIMITS.headersTimeoutMs + 2_000;
    while (closed.size < idle.length && Date.now() < deadline) await sleep(50);

    assert.equal(closed.size, idle.length, 'every idle connection is closed');
    const answers = new Set([...received.values()].map((text) => text.split('\r\n')[0]));
    answers.delete('');
    assert.deepEqual(
      [...answers],
      ['HTTP/1.1 408 Request Timeout'],
      'refused ones get nothing, reaped ones a 408',
    );
    assert.equal((await server.fetchCredentials()).status, 200, 'served after the flood');
  });
});

test('no secret appears in any log line', () => {
  assert.ok(server.secrets.length >= 3);
  assert.deepEqual(leakedSecrets(server.secrets, server.logLines), []);
});
