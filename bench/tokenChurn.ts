import { randomBytes } from 'node:crypto';
import {
  checkSessionToken,
  mintSessionToken,
  type TokenKeyRing,
} from '../src/tokens/sessionToken.ts';

/**
 * Memory under token churn, run as its own process (node --expose-gc): mints a million IMDSv2
 * session tokens with imdsd's own codec and samples the resident set every 100 000. Tokens
 * are stateless (an HMAC, no table), so the resident set must not grow with their number.
 * Prints one JSON line.
 */

const TOKENS = Number(process.argv[2] ?? 1_000_000);
const SAMPLE_EVERY = TOKENS / 10;
const INSTANCE_ID = 'i-0123456789abcdef0';
const TTL_SECONDS = 21_600;

const collectGarbage = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function sample(tokens: number): { tokens: number; rssBytes: number; heapUsedBytes: number } {
  collectGarbage();
  const usage = process.memoryUsage();
  return { tokens, rssBytes: usage.rss, heapUsedBytes: usage.heapUsed };
}

const ring: TokenKeyRing = { currentKeyId: 0, keys: new Map([[0, randomBytes(32)]]) };
const startMs = Date.now();
const samples = [sample(0)];

for (let minted = 1; minted <= TOKENS; minted += 1) {
  const nowMs = startMs + minted;
  const token = mintSessionToken(ring, INSTANCE_ID, TTL_SECONDS, nowMs);

  // Every thousandth token is checked, so the loop mints real tokens, not dead code.
  if (minted % 1000 === 0 && !checkSessionToken(ring, INSTANCE_ID, token, nowMs).valid) {
    throw new Error(`token ${minted} does not verify`);
  }
  if (minted % SAMPLE_EVERY === 0) samples.push(sample(minted));
}

const elapsedMs = Date.now() - startMs;
process.stdout.write(`${JSON.stringify({ tokens: TOKENS, elapsedMs, samples })}\n`);
