import { randomBytes } from 'node:crypto';
import type { StateStore } from '../store/stateStore.ts';
import type { TokenKeyRing } from './sessionToken.ts';

/**
 * The token key ring as kept in the state store. One key today; the key id in every token
 * leaves room to rotate keys later without invalidating tokens already issued.
 */
export function loadTokenKeyRing(store: StateStore): TokenKeyRing {
  const key = store.remembered('token-key:0', () => randomBytes(32));
  return { currentKeyId: 0, keys: new Map([[0, key]]) };
}
