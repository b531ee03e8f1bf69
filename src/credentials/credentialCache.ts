import { ImdsdError, isImdsdError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { systemClock, MAX_TIMER_DELAY_MS, type Clock, type Timer } from '../clock.ts';
import {
  formatImdsTime,
  memoizedRequestKey,
  type CredentialRequest,
  type CredentialSource,
  type RoleCredentials,
} from './roleCredentials.ts';

/**
 * When the cache fetches ahead and how it retries. Defaults:
 *
 * - Refresh ahead when less than a third of the lifetime or 15 minutes remain, whichever comes
 *   first (the larger margin), but never later than half the lifetime. So a served set always
 *   has 15 minutes or more left, outside every SDK's refresh window: JS v3 treats < 5 min as
 *   expired, botocore refreshes at 15 min (reference §7.7), EC2 itself keeps ≥ 5 min (§7.6).
 * - Jitter moves each refresh earlier by up to a tenth of the lifetime, so sets fetched together
 *   (a restart) are not all renewed in the same second.
 * - A set with less than a minute left is not served: a caller would get keys that expire
 *   before its request is signed and sent.
 * - Failed fetches are retried after 1 s, 2 s, 4 s ... up to 60 s, each delay scaled by a
 *   random factor in [0.5, 1) ("equal jitter"), so callers recover within a minute of STS.
 */
export interface RefreshPolicy {
  lifetimeFraction: number;
  minMarginMs: number;
  jitterFraction: number;
  minServableMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** An entry nobody read for this long (at least two lifetimes) stops being kept warm. */
  idleMs: number;
}

export const DEFAULT_REFRESH_POLICY: Readonly<RefreshPolicy> = Object.freeze({
  lifetimeFraction: 1 / 3,
  minMarginMs: 15 * 60_000,
  jitterFraction: 0.1,
  minServableMs: 60_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  idleMs: 2 * 3_600_000,
});

/** Refreshes never come closer together than this, whatever a source returns. */
const MIN_REFRESH_DELAY_MS = 1_000;

export interface CredentialCacheOptions {
  logger: Logger;
  clock?: Clock;
  /** Uniform in [0, 1), like Math.random; injected so tests pin the jitter. */
  random?: () => number;
  policy?: Partial<RefreshPolicy>;
}

/** One failure episode: from the first failed fetch to the next success. */
interface Incident {
  upstreamCode: string;
  message: string;
  failures: number;
  startedMs: number;
  exhaustionLogged: boolean;
}

interface CacheEntry {
  readonly key: string;
  readonly request: CredentialRequest;
  readonly source: CredentialSource;
  credentials: RoleCredentials | undefined;
  lifetimeMs: number;
  refreshAtMs: number;
  retryAtMs: number;
  flight: Promise<RoleCredentials> | undefined;
  incident: Incident | undefined;
  timer: Timer | undefined;
  pinned: boolean;
  lastReadMs: number;
  warmed: { promise: Promise<void>; resolve: () => void } | undefined;
}

/**
 * The one cache in front of every credential source that is worth caching (STS, static keys).
 * Per instance, role and delivery it keeps the current set and:
 *
 * - fetches the next set ahead of expiry on a timer, so callers are answered from memory;
 * - lets any number of concurrent callers share one upstream call (single flight);
 * - keeps serving a still-valid set while the upstream fails or hangs (stale on error), logs
 *   the failure once per incident with its upstream code, and retries with capped backoff;
 * - when nothing valid is left, throws CREDENTIALS_UNAVAILABLE with the upstream code, which
 *   the IMDS tree answers in EC2's failure shape. It never invents a key.
 *
 * Callers only wait for the upstream when there is no valid set at all (a cold key, or one
 * whose set ran out during an outage); during backoff they get the failure at once.
 */
export class CredentialCache {
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #policy: RefreshPolicy;
  readonly #entries = new Map<string, CacheEntry>();
  #closed = false;

  constructor(options: CredentialCacheOptions) {
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#policy = { ...DEFAULT_REFRESH_POLICY, ...options.policy };
  }

  /** The set to hand out now for this request, fetched from `source` when there is none. */
  credentials(request: CredentialRequest, source: CredentialSource): Promise<RoleCredentials> {
    const entry = this.#entryFor(request, source);
    const nowMs = this.#clock.now();
    entry.lastReadMs = nowMs;

    const current = this.#validAt(entry, nowMs);
    if (current !== undefined) {
      // The timer normally refreshes; this catches a timer delayed by a busy event loop.
      if (nowMs >= this.#dueAtMs(entry)) this.#refreshInBackground(entry);
      return Promise.resolve(current);
    }

    if (entry.flight !== undefined) return entry.flight;
    if (entry.incident !== undefined && nowMs < entry.retryAtMs) {
      return Promise.reject(this.#unavailable(entry));
    }
    return this.#refresh(entry);
  }

  /**
   * Fetches the set for a request that is known to come (an instance's role) and keeps it
   * warm for as long as the cache lives. Resolves once a valid set is in memory, however many
   * retries that takes; never rejects.
   */
  prefetch(request: CredentialRequest, source: CredentialSource): Promise<void> {
    const entry = this.#entryFor(request, source);
    entry.pinned = true;

    if (this.#validAt(entry, this.#clock.now()) !== undefined) return Promise.resolve();

    if (entry.warmed === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      entry.warmed = { promise, resolve };
    }
    if (entry.flight === undefined && entry.timer === undefined) this.#refreshInBackground(entry);
    return entry.warmed.promise;
  }

  /** Whether the request's key holds a set that would be served now. */
  holdsValid(request: CredentialRequest): boolean {
    const entry = this.#entries.get(keyOf(request));
    return entry !== undefined && this.#validAt(entry, this.#clock.now()) !== undefined;
  }

  /** Stops every timer; fetches in flight finish but schedule nothing more. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#entries.values()) entry.timer?.cancel();
    this.#entries.clear();
  }

  #entryFor(request: CredentialRequest, source: CredentialSource): CacheEntry {
    const key = keyOf(request);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = {
        key,
        request: { ...request },
        source,
        credentials: undefined,
        lifetimeMs: 0,
        refreshAtMs: 0,
        retryAtMs: 0,
        flight: undefined,
        incident: undefined,
        timer: undefined,
        pinned: false,
        lastReadMs: this.#clock.now(),
        warmed: undefined,
      };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  #servable(credentials: RoleCredentials, nowMs: number): boolean {
    return credentials.expiration.getTime() - nowMs > this.#policy.minServableMs;
  }

  /** The entry's set if it may still be handed out at `nowMs`. */
  #validAt(entry: CacheEntry, nowMs: number): RoleCredentials | undefined {
    const credentials = entry.credentials;
    return credentials !== undefined && this.#servable(credentials, nowMs)
      ? credentials
      : undefined;
  }

  #dueAtMs(entry: CacheEntry): number {
    return entry.incident === undefined ? entry.refreshAtMs : entry.retryAtMs;
  }

  #refresh(entry: CacheEntry): Promise<RoleCredentials> {
    entry.flight ??= this.#fetch(entry).finally(() => {
      entry.flight = undefined;
    });
    return entry.flight;
  }

  #refreshInBackground(entry: CacheEntry): void {
    if (entry.flight !== undefined) return;
    // The outcome is recorded on the entry and logged; nobody awaits this promise.
    this.#refresh(entry).catch(() => undefined);
  }

  async #fetch(entry: CacheEntry): Promise<RoleCredentials> {
    let credentials: RoleCredentials;
    try {
      credentials = await entry.source.credentials(entry.request);
      const nowMs = this.#clock.now();
      if (!this.#servable(credentials, nowMs)) throw tooShortLived(entry, credentials);
    } catch (error) {
      return this.#failed(entry, error);
    }
    this.#succeeded(entry, credentials);
    return credentials;
  }

  #succeeded(entry: CacheEntry, credentials: RoleCredentials): void {
    const nowMs = this.#clock.now();
    entry.credentials = credentials;
    entry.lifetimeMs = credentials.expiration.getTime() - nowMs;
    entry.refreshAtMs = this.#refreshAtMs(credentials, nowMs);

    const incident = entry.incident;
    entry.incident = undefined;
    if (incident !== undefined) {
      const fields = { ...fieldsOf(entry), upstreamCode: incident.upstreamCode };
      const durationMs = nowMs - incident.startedMs;
      this.#logger.info(
        { ...fields, attempt: incident.failures + 1, durationMs },
        'role credentials recovered',
      );
    } else {
      const expiration = formatImdsTime(credentials.expiration);
      this.#logger.debug({ ...fieldsOf(entry), expiration }, 'role credentials fetched');
    }

    entry.warmed?.resolve();
    entry.warmed = undefined;
    this.#schedule(entry);
  }

  #failed(entry: CacheEntry, error: unknown): RoleCredentials {
    const nowMs = this.#clock.now();
    const { upstreamCode, message } = describeFailure(entry, error);

    entry.incident ??= {
      upstreamCode,
      message,
      failures: 0,
      startedMs: nowMs,
      exhaustionLogged: false,
    };
    const incident = entry.incident;
    incident.upstreamCode = upstreamCode;
    incident.message = message;
    incident.failures += 1;

    const retryInMs = this.#backoffMs(incident.failures);
    entry.retryAtMs = nowMs + retryInMs;
    this.#schedule(entry);

    const stale = this.#validAt(entry, nowMs);
    this.#logFailure(entry, incident, error, retryInMs, stale);
    if (stale !== undefined) return stale;
    throw this.#unavailable(entry);
  }

  /** Logs the first failure of an incident as a warning; later ones only at debug level. */
  #logFailure(
    entry: CacheEntry,
    incident: Incident,
    error: unknown,
    retryInMs: number,
    stale: RoleCredentials | undefined,
  ): void {
    const attempt = incident.failures;
    const fields = { ...fieldsOf(entry), upstreamCode: incident.upstreamCode, attempt, retryInMs };
    if (incident.failures > 1) {
      this.#logger.debug(fields, 'role credentials still unavailable');
    } else if (!isImdsdError(error)) {
      this.#logger.error({ ...fields, err: error }, 'credential source failed unexpectedly');
    } else if (stale !== undefined) {
      this.#logger.warn(
        { ...fields, expiration: formatImdsTime(stale.expiration), reason: error.message },
        'role credentials refresh failed; serving the cached set until it expires',
      );
    } else {
      this.#logger.warn({ ...fields, reason: error.message }, 'role credentials unavailable');
    }
  }

  /** The error callers get when nothing valid is left; says so once per incident in the log. */
  #unavailable(entry: CacheEntry): ImdsdError {
    const incident = entry.incident!;
    if (entry.credentials !== undefined && !incident.exhaustionLogged) {
      incident.exhaustionLogged = true;
      const expiration = formatImdsTime(entry.credentials.expiration);
      this.#logger.error(
        { ...fieldsOf(entry), upstreamCode: incident.upstreamCode, expiration },
        'cached role credentials ran out while the source keeps failing',
      );
    }
    const upstreamCode = incident.upstreamCode;
    return new ImdsdError('CREDENTIALS_UNAVAILABLE', incident.message, { upstreamCode });
  }

  #refreshAtMs(credentials: RoleCredentials, nowMs: number): number {
    const lifetimeMs = credentials.expiration.getTime() - nowMs;
    const marginMs = Math.min(
      Math.max(lifetimeMs * this.#policy.lifetimeFraction, this.#policy.minMarginMs),
      lifetimeMs / 2,
    );
    const jitterMs = this.#random() * this.#policy.jitterFraction * lifetimeMs;
    // Short-lived sets still refresh before they stop being servable.
    const leadMs = Math.max(marginMs + jitterMs, this.#policy.minServableMs);
    const refreshAtMs = credentials.expiration.getTime() - leadMs;
    return Math.max(nowMs + MIN_REFRESH_DELAY_MS, refreshAtMs);
  }

  #backoffMs(failures: number): number {
    const cappedMs = Math.min(
      this.#policy.backoffMaxMs,
      this.#policy.backoffBaseMs * 2 ** (failures - 1),
    );
    return Math.round(cappedMs * (0.5 + this.#random() / 2));
  }

  #schedule(entry: CacheEntry): void {
    entry.timer?.cancel();
    entry.timer = undefined;
    if (this.#closed) return;

    const delayMs = Math.min(
      MAX_TIMER_DELAY_MS,
      Math.max(0, this.#dueAtMs(entry) - this.#clock.now()),
    );
    entry.timer = this.#clock.setTimer(() => this.#due(entry), delayMs);
  }

  #due(entry: CacheEntry): void {
    entry.timer = undefined;
    if (this.#closed || this.#entries.get(entry.key) !== entry) return;

    const nowMs = this.#clock.now();
    if (
      !entry.pinned &&
      nowMs - entry.lastReadMs > Math.max(this.#policy.idleMs, 2 * entry.lifetimeMs)
    ) {
      this.#entries.delete(entry.key);
      this.#logger.debug(fieldsOf(entry), 'role credentials unused; no longer kept warm');
      return;
    }

    if (nowMs < this.#dueAtMs(entry)) return this.#schedule(entry);
    this.#refreshInBackground(entry);
  }
}

const keyOf = memoizedRequestKey(
  (request) => `${request.instanceId}\u0000${request.roleName}\u0000${request.delivery}`,
);

function fieldsOf(entry: CacheEntry): Record<string, string> {
  const { instanceId, roleName, delivery } = entry.request;
  return { instanceId, role: roleName, delivery, source: entry.source.kind };
}

function describeFailure(
  entry: CacheEntry,
  error: unknown,
): { upstreamCode: string; message: string } {
  if (isImdsdError(error, 'CREDENTIALS_UNAVAILABLE')) {
    return { upstreamCode: error.upstreamCode ?? 'InternalError', message: error.message };
  }
  const message = `imdsd could not obtain credentials for the role ${entry.request.roleName}`;
  return { upstreamCode: 'InternalError', message };
}

function tooShortLived(entry: CacheEntry, credentials: RoleCredentials): ImdsdError {
  return new ImdsdError(
    'CREDENTIALS_UNAVAILABLE',
    `the ${entry.source.kind} source of role ${entry.request.roleName} gave credentials that expire at ` +
      `${formatImdsTime(credentials.expiration)}, too soon to hand out`,
    { upstreamCode: 'ExpiredToken' },
  );
}
