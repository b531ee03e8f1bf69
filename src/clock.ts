/**
 * Time as imdsd sees it: token and credential expiry, signature skew, refresh-ahead, jitter and
 * backoff. It is injected so that tests move time with a manual clock instead of sleeping.
 */
export interface Clock {
  now(): number;
  /** Runs `callback` once after `delayMs`. A pending timer never keeps the process alive. */
  setTimer(callback: () => void, delayMs: number): Timer;
}

export interface Timer {
  cancel(): void;
}

/** Node's timers hold at most 2^31 - 1 ms (about 24.8 days); longer delays fire early. */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    const handle = setTimeout(callback, Math.min(Math.max(0, delayMs), MAX_TIMER_DELAY_MS));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};
