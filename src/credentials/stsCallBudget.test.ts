import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../test/support/manualClock.ts';
import { isImdsdError } from '../errors.ts';
import { createStsCallBudget } from './stsCallBudget.ts';

function setUp(settings = { callsPerSecond: 2, burst: 3, maxWaitMs: 2_000 }) {
  const clock = new ManualClock();
  const budget = createStsCallBudget(settings, clock);
  const grantedAt: number[] = [];
  const take = (): Promise<void> => budget.take().then(() => void grantedAt.push(clock.now()));
  return { clock, budget, grantedAt, take };
}

describe('STS call budget', () => {
  it('lets a burst through at once, then one call per 1/rate seconds, in order', async () => {
    const { clock, grantedAt, take } = setUp();
    const startMs = clock.now();

    const calls = Array.from({ length: 6 }, () => take());
    await clock.advance(10_000);
    await Promise.all(calls);

    assert.deepEqual(
      grantedAt.map((atMs) => atMs - startMs),
      [0, 0, 0, 500, 1_000, 1_500],
    );
  });

  it('refuses a call that would wait longer than maxWaitMs, with the Throttling code', async () => {
    const { clock, budget, take } = setUp();
    const queued = Array.from({ length: 7 }, () => take());

    const refused = await budget.take().then(
      () => undefined,
      (error: unknown) => error,
    );

    assert.ok(isImdsdError(refused, 'CREDENTIALS_UNAVAILABLE'));
    assert.equal(refused.upstreamCode, 'Throttling');
    await clock.advance(10_000);
    await Promise.all(queued);
  });

  it('refills with time, up to the burst and no further', async () => {
    const { clock, grantedAt, take } = setUp();
    await Promise.all([take(), take(), take()]);

    await clock.advance(60_000);
    const startMs = clock.now();
    const calls = Array.from({ length: 4 }, () => take());
    await clock.advance(10_000);
    await Promise.all(calls);

    assert.deepEqual(
      grantedAt.slice(3).map((atMs) => atMs - startMs),
      [0, 0, 0, 500],
    );
  });
});
