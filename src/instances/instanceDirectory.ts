import { cidrContains } from '../net/cidr.ts';
import type { EmulatedInstance } from './instance.ts';

/** Caller addresses seen recently and the instance they map to; bounded so memory stays flat. */
const CALLER_CACHE_LIMIT = 4096;

/**
 * The set of emulated instances and which caller sees which: the instance whose `clients`
 * block matches the caller's source address most specifically (longest prefix).
 */
export class InstanceDirectory {
  readonly #instances: readonly EmulatedInstance[];
  readonly #byId: ReadonlyMap<string, EmulatedInstance>;
  readonly #byCaller = new Map<string, EmulatedInstance | null>();
  readonly #everyCaller: Readonly<Record<4 | 6, EmulatedInstance | undefined>>;

  constructor(instances: readonly EmulatedInstance[]) {
    this.#instances = instances;
    this.#byId = new Map(instances.map((instance) => [instance.instanceId, instance]));
    this.#everyCaller = { 4: soleInstanceFor(instances, 4), 6: soleInstanceFor(instances, 6) };
  }

  get all(): readonly EmulatedInstance[] {
    return this.#instances;
  }

  byId(instanceId: string): EmulatedInstance | undefined {
    return this.#byId.get(instanceId);
  }

  /**
   * The instance every caller of one address family sees, when that takes no address to know:
   * a lone instance whose `clients` hold the whole family (`0.0.0.0/0`, `::/0`, the default).
   * The front then skips the caller's address, which costs a system call per connection.
   */
  forEveryCaller(family: 4 | 6): EmulatedInstance | undefined {
    return this.#everyCaller[family];
  }

  forCaller(address: string): EmulatedInstance | undefined {
    const cached = this.#byCaller.get(address);
    if (cached !== undefined) return cached ?? undefined;

    const found = this.#mostSpecificMatch(address);
    if (this.#byCaller.size >= CALLER_CACHE_LIMIT) this.#byCaller.clear();
    this.#byCaller.set(address, found ?? null);
    return found;
  }

  #mostSpecificMatch(address: string): EmulatedInstance | undefined {
    let best: EmulatedInstance | undefined;
    let bestPrefix = -1;
    for (const instance of this.#instances) {
      for (const block of instance.clients) {
        if (block.prefixLength > bestPrefix && cidrContains(block, address)) {
          best = instance;
          bestPrefix = block.prefixLength;
        }
      }
    }
    return best;
  }
}

function soleInstanceFor(
  instances: readonly EmulatedInstance[],
  family: 4 | 6,
): EmulatedInstance | undefined {
  const [only, ...others] = instances;
  if (only === undefined || others.length > 0) return undefined;
  const holdsFamily = only.clients.some(
    (block) => block.family === family && block.prefixLength === 0,
  );
  return holdsFamily ? only : undefined;
}
