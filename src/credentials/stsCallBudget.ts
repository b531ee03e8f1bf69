import { ImdsdError } from '../errors.ts';
import { systemClock, type Clock } from '../clock.ts';

/**
 * A token bucket for calls to STS, shared by every assume-role source of one imdsd. A restart
 * in front of many callers must not throttle the account: STS rate-limits AssumeRole per
 * account and region and answers `Throttling` past it. The bucket holds `burst` calls and
 * refills `callsPerSecond`; a call beyond that waits its turn, first come first served.
 */
export interface StsCallBudgetSettings {
  callsPerSecond: number;
  burst: number;
  /** A call that would wait longer than this is refused at once instead. */
  maxWaitMs: number;
}

export interface StsCallBudget {
  /** Resolves when the call may go out; rejects with CREDENTIALS_UNAVAILABLE (`Throttling`). */
  take(): Promise<void>;
}

/** The IMDS `Code` when imdsd's own budget refuses a call, named like STS's own throttling. */
export const BUDGET_SPENT_CODE = 'Throttling';

export function createStsCallBudget(
  settings: StsCallBudgetSettings,
  clock: Clock = systemClock,
): StsCallBudget {
  // Tokens may go below zero: each negative unit is a call already promised a later slot.
  let tokens = settings.burst;
  let updatedMs = clock.now();

  const refill = (nowMs: number): void => {
    tokens = Math.min(
      settings.burst,
      tokens + ((nowMs - updatedMs) * settings.callsPerSecond) / 1000,
    );
    updatedMs = nowMs;
  };

  return {
    take() {
      refill(clock.now());

      const waitMs = tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / settings.callsPerSecond);
      if (waitMs > settings.maxWaitMs) {
        return Promise.reject(
          new ImdsdError(
            'CREDENTIALS_UNAVAILABLE',
            `imdsd's STS call budget (${settings.callsPerSecond} per second, burst ${settings.burst}) is spent`,
            { upstreamCode: BUDGET_SPENT_CODE },
          ),
        );
      }

      tokens -= 1;
      if (waitMs === 0) return Promise.resolve();
      return new Promise((resolve) => clock.setTimer(resolve, waitMs));
    },
  };
}
