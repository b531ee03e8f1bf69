import type { Clock, Timer } from '../../src/clock.ts';

interface PendingTimer {
  atMs: number;
  order: number;
  callback: () => void;
}

/**
 * A clock that moves only when a test says so. `advance` fires every timer that falls due on
 * the way, each at its own moment and in order, and lets the promise jobs each one starts run
 * before time moves on, so a test reads like a timeline.
 */
export class ManualClock implements Clock {
  #nowMs: number;
  #order = 0;
  readonly #timers: PendingTimer[] = [];

  constructor(startMs = Date.UTC(2030, 0, 1)) {
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
  }

  setTimer(callback: () => void, delayMs: number): Timer {
    const timer: PendingTimer = {
      atMs: this.#nowMs + Math.max(0, delayMs),
      order: this.#order++,
      callback,
    };
    this.#timers.push(timer);
    return { cancel: () => this.#remove(timer) };
  }

  /** Timers still waiting, for assertions that nothing keeps running. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  async advance(ms: number): Promise<void> {
    const targetMs = this.#nowMs + ms;
    await settle();

    for (let next = this.#nextDue(targetMs); next !== undefined; next = this.#nextDue(targetMs)) {
      this.#remove(next);
      this.#nowMs = next.atMs;
      next.callback();
      await settle();
    }
    this.#nowMs = targetMs;
  }

  async advanceTo(atMs: number): Promise<void> {
    await this.advance(Math.max(0, atMs - this.#nowMs));
  }

  #remove(timer: PendingTimer): void {
    const index = this.#timers.indexOf(timer);
    if (index >= 0) this.#timers.splice(index, 1);
  }

  #nextDue(targetMs: number): PendingTimer | undefined {
    let next: PendingTimer | undefined;
    for (const timer of this.#timers) {
      if (timer.atMs > targetMs) continue;
      if (
        next === undefined ||
        timer.atMs < next.atMs ||
        (timer.atMs === next.atMs && timer.order < next.order)
      )
        next = timer;
    }
    return next;
  }
}

/** Lets every promise job already queued (and the ones those queue) run. */
export async function settle(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}
