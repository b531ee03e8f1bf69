import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../test/support/manualClock.ts';
import { captureLogs, LEVEL } from '../../test/support/logCapture.ts';
import { ImdsdError, isImdsdError } from '../errors.ts';
import { CredentialCache, type CredentialCacheOptions } from './credentialCache.ts';
import type { CredentialRequest, CredentialSource, RoleCredentials } from './roleCredentials.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const REQUEST: CredentialRequest = {
  instanceId: 'i-0123456789abcdef0',
  accountId: '123456789012',
  region: 'eu-west-1',
  roleName: 'app-role',
  delivery: 'imdsv2',
};

/**
 * A credential source under the test's control: each call hands out a new set living
 * `lifetimeMs` from the clock's now, or fails with `failure`, optionally held at a gate.
 */
class ScriptedSource implements CredentialSource {
  readonly kind = 'scripted';
  readonly callTimes: number[] = [];
  failure: ImdsdError | undefined;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  constructor(
    private readonly clock: ManualClock,
    public lifetimeMs = HOUR,
  ) {}

  get calls(): number {
    return this.callTimes.length;
  }

  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  async credentials(): Promise<RoleCredentials> {
    const serial = this.callTimes.push(this.clock.now());
    if (this.#gate !== undefined) await this.#gate;
    if (this.failure !== undefined) throw this.failure;

    const nowMs = this.clock.now();
    return {
      accessKeyId: `ASIASCRIPTED${String(serial).padStart(8, '0')}`,
      secretAccessKey: `secret-${serial}-never-logged`,
      sessionToken: `session-token-${serial}-never-logged`,
      expiration: new Date(nowMs + this.lifetimeMs),
      lastUpdated: new Date(nowMs),
    };
  }
}

const THROTTLED = new ImdsdError(
  'CREDENTIALS_UNAVAILABLE',
  'imdsd cannot assume the role app-role: STS answered Throttling',
  {
    upstreamCode: 'Throttling',
  },
);

function setUp(options: Partial<CredentialCacheOptions> & { lifetimeMs?: number } = {}) {
  const clock = new ManualClock();
  const logs = captureLogs();
  const source = new ScriptedSource(clock, options.lifetimeMs);
  const cache = new CredentialCache({ logger: logs.logger, clock, random: () => 0, ...options });
  const read = (request: CredentialRequest = REQUEST): Promise<RoleCredentials> =>
    cache.credentials(request, source);
  return { clock, logs, source, cache, read };
}

async function failureOf(promise: Promise<unknown>): Promise<ImdsdError> {
  const error = await promise.then(
    () => assert.fail('expected CREDENTIALS_UNAVAILABLE'),
    (caught: unknown) => caught,
  );
  assert.ok(isImdsdError(error, 'CREDENTIALS_UNAVAILABLE'), `unexpected error ${String(error)}`);
  return error;
}

/** A deterministic stand-in for Math.random (a linear congruential generator). */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('CredentialCache', () => {
  it('answers repeat callers from memory', async () => {
    const { source, read } = setUp();

    const first = await read();
    const second = await read();

    assert.equal(source.calls, 1);
    assert.equal(second, first);
  });

  it('keys by instance, role and delivery: IMDSv1 and IMDSv2 callers get distinct sets', async () => {
    const { source, read } = setUp();

    const v2 = await read();
    const v1 = await read({ ...REQUEST, delivery: 'imdsv1' });
    const otherInstance = await read({ ...REQUEST, instanceId: 'i-0fedcba9876543210' });

    assert.equal(source.calls, 3);
    assert.equal(new Set([v2.accessKeyId, v1.accessKeyId, otherInstance.accessKeyId]).size, 3);
  });

  describe('refresh ahead', () => {
    it('renews a 1-hour set when a third of it (20 minutes) remains, with no caller asking', async () => {
      const { clock, source, read } = setUp({ lifetimeMs: HOUR });
      const first = await read();

      await clock.advance(40 * MINUTE - 1);
      assert.equal(source.calls, 1);

      await clock.advance(1);
      assert.equal(source.calls, 2);
      assert.notEqual((await read()).accessKeyId, first.accessKeyId);
    });

    it('renews a 6-hour set when 2 hours remain', async () => {
      const { clock, source, read } = setUp({ lifetimeMs: 6 * HOUR });
      await read();

      await clock.advance(4 * HOUR - 1);
      assert.equal(source.calls, 1);
      await clock.advance(1);
      assert.equal(source.calls, 2);
    });

    it('keeps at least 15 minutes of margin for a set too short for a third to reach that', async () => {
      const { clock, source, read } = setUp({ lifetimeMs: 30 * MINUTE });
      await read();

      await clock.advance(15 * MINUTE - 1);
      assert.equal(source.calls, 1);
      await clock.advance(1);
      assert.equal(source.calls, 2);
    });

    it('renews a very short set at half its life rather than at once', async () => {
      const { clock, source, read } = setUp({ lifetimeMs: 20 * MINUTE });
      await read();

      await clock.advance(10 * MINUTE - 1);
      assert.equal(source.calls, 1);
      await clock.advance(1);
      assert.equal(source.calls, 2);
    });

    it('moves each refresh earlier by a random share of up to a tenth of the lifetime', async () => {
      for (const [random, refreshAfterMs] of [
        [0.5, 40 * MINUTE - 3 * MINUTE],
        [0.999, 40 * MINUTE - 0.999 * 6 * MINUTE],
      ] as const) {
        const { clock, source, read } = setUp({ lifetimeMs: HOUR, random: () => random });
        await read();

        await clock.advance(refreshAfterMs - 1);
        assert.equal(source.calls, 1, `random ${random}: not before ${refreshAfterMs} ms`);
        await clock.advance(1);
        assert.equal(source.calls, 2, `random ${random}: at ${refreshAfterMs} ms`);
      }
    });

    it('never serves a set with less than 15 minutes left while the source answers', async () => {
      const { clock, read } = setUp({ lifetimeMs: HOUR, random: seededRandom(7) });

      for (let minute = 0; minute < 12 * 60; minute += 1) {
        const credentials = await read();
        const remainingMs = credentials.expiration.getTime() - clock.now();
        assert.ok(
          remainingMs >= 15 * MINUTE,
          `minute ${minute}: served a set with ${remainingMs} ms left`,
        );
        await clock.advance(MINUTE);
      }
    });
  });

  describe('single flight', () => {
    it('lets 1000 concurrent first callers share one upstream call', async () => {
      const { source, read } = setUp();
      source.hold();

      const readers = Array.from({ length: 1000 }, () => read());
      source.release();
      const answers = await Promise.all(readers);

      assert.equal(source.calls, 1);
      assert.equal(new Set(answers.map((credentials) => credentials.accessKeyId)).size, 1);
    });

    it('hands one failure to every waiting caller, from one upstream call', async () => {
      const { source, read } = setUp();
      source.failure = THROTTLED;
      source.hold();

      const readers = Array.from({ length: 1000 }, () => failureOf(read()));
      source.release();
      const failures = await Promise.all(readers);

      assert.equal(source.calls, 1);
      assert.ok(failures.every((error) => error.upstreamCode === 'Throttling'));
    });

    it('does not make callers with a valid set wait for a slow refresh', async () => {
      const { clock, source, read } = setUp({ lifetimeMs: HOUR });
      const first = await read();
      source.hold();

      await clock.advance(45 * MINUTE);
      assert.equal(source.calls, 2);
      assert.equal(await read(), first);

      source.release();
    });
  });

  describe('stale on error', () => {
    it('serves the cached set while the source fails, then the failure, never a made-up key', async () => {
      const { clock, source, read } = setUp({ lifetimeMs: HOUR });
      const first = await read();
      source.failure = THROTTLED;

      await clock.advance(40 * MINUTE);
      assert.equal(source.calls, 2);
      assert.equal(await read(), first);

      await clock.advanceTo(first.expiration.getTime() - MINUTE - 1);
      assert.equal(await read(), first);

      await clock.advance(1);
      const failure = await failureOf(read());
      assert.equal(failure.upstreamCode, 'Throttling');
      assert.match(failure.message, /STS answered Throttling/);
    });

    it('logs an incident once with its upstream code, its end once, and never a secret', async () => {
      const { clock, source, logs, read } = setUp({ lifetimeMs: HOUR });
      const first = await read();
      source.failure = THROTTLED;

      await clock.advanceTo(first.expiration.getTime() + 5 * MINUTE);
      await failureOf(read());
      await failureOf(read());
      source.failure = undefined;
      await clock.advance(MINUTE);

      const loud = logs.lines().filter((line) => line.level >= LEVEL.info);
      assert.deepEqual(
        loud.map((line) => [line.level, line.msg, line['upstreamCode']]),
        [
          [
            LEVEL.warn,
            'role credentials refresh failed; serving the cached set until it expires',
            'Throttling',
          ],
          [
            LEVEL.error,
            'cached role credentials ran out while the source keeps failing',
            'Throttling',
          ],
          [LEVEL.info, 'role credentials recovered', 'Throttling'],
        ],
      );
      assert.ok(source.calls > 10, 'retried many times in between');
      assert.doesNotMatch(logs.text(), /never-logged/);
    });

    it('recovers on its own once the source answers again', async () => {
      const { clock, source, read } = setUp({ lifetimeMs: HOUR });
      const first = await read();
      source.failure = THROTTLED;
      await clock.advanceTo(first.expiration.getTime());
      await failureOf(read());

      source.failure = undefined;
      await clock.advance(60 * SECOND);

      const recovered = await read();
      assert.notEqual(recovered.accessKeyId, first.accessKeyId);
      assert.ok(recovered.expiration.getTime() - clock.now() > 45 * MINUTE);
    });

    it('rejects a set that is already about to expire as a failure', async () => {
      const { source, read } = setUp({ lifetimeMs: 30 * SECOND });

      const failure = await failureOf(read());

      assert.equal(failure.upstreamCode, 'ExpiredToken');
      assert.equal(source.calls, 1);
    });
  });

  describe('backoff', () => {
    it('retries after 1, 2, 4 ... seconds, capped at 60, scaled by a random factor in [0.5, 1)', async () => {
      for (const [random, scale] of [
        [0, 0.5],
        [0.999_999, 0.999_999_5],
      ] as const) {
        const { clock, source, read } = setUp({ random: () => random });
        source.failure = THROTTLED;
        await failureOf(read());

        await clock.advance(10 * MINUTE);

        const gaps = source.callTimes
          .slice(1, 10)
          .map((atMs, index) => atMs - source.callTimes[index]!);
        const expected = [1, 2, 4, 8, 16, 32, 60, 60, 60].map((seconds) =>
          Math.round(seconds * SECOND * scale),
        );
        assert.deepEqual(gaps, expected, `random ${random}`);
      }
    });

    it('fails callers at once during the backoff, without calling the source', async () => {
      const { clock, source, read } = setUp();
      source.failure = THROTTLED;
      await failureOf(read());
      await clock.advance(400);

      const failure = await failureOf(read());

      assert.equal(failure.upstreamCode, 'Throttling');
      assert.equal(source.calls, 1);
    });

    it('starts again from 1 second after a success', async () => {
      const { clock, source, read } = setUp({ lifetimeMs: HOUR });
      source.failure = THROTTLED;
      await failureOf(read());
      await clock.advance(3 * MINUTE);
      source.failure = undefined;
      await clock.advance(MINUTE);
      const callsBefore = source.calls;

      source.failure = THROTTLED;
      await clock.advance(40 * MINUTE);
      const [refreshAt, firstRetryAt] = source.callTimes.slice(callsBefore);

      assert.equal(firstRetryAt! - refreshAt!, 0.5 * SECOND);
    });
  });

  describe('prefetch and lifetime of entries', () => {
    it('prefetch fetches at once and resolves once a valid set is in memory, after retries if need be', async () => {
      const { clock, source, cache, read } = setUp();
      source.failure = THROTTLED;
      let warm = false;
      void cache.prefetch(REQUEST, source).then(() => (warm = true));

      await clock.advance(10 * SECOND);
      assert.equal(warm, false);
      assert.ok(source.calls >= 3);

      source.failure = undefined;
      await clock.advance(10 * SECOND);
      assert.equal(warm, true);
      assert.equal(cache.holdsValid(REQUEST), true);

      const callsWhenWarm = source.calls;
      await read();
      assert.equal(source.calls, callsWhenWarm);
    });

    it('keeps prefetched sets fresh with nobody reading; drops unread sets after the idle time', async () => {
      const { clock, source, cache } = setUp({ lifetimeMs: HOUR });
      const unread = { ...REQUEST, roleName: 'read-once' };
      await cache.prefetch(REQUEST, source);
      await cache.credentials(unread, source);

      await clock.advance(24 * HOUR);

      assert.equal(cache.holdsValid(REQUEST), true);
      assert.equal(cache.holdsValid(unread), false);
      assert.ok(source.calls > 24 * 1.5, 'the prefetched set was renewed all day');
    });

    it('close stops every timer', async () => {
      const { clock, source, cache } = setUp();
      await cache.prefetch(REQUEST, source);
      assert.equal(clock.pendingTimers, 1);

      cache.close();

      assert.equal(clock.pendingTimers, 0);
    });
  });
});
