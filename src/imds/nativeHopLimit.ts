import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ImdsdError } from '../errors.ts';
import { HOP_LIMIT_NOT_ENFORCED, type HopLimitControl } from './hopLimit.ts';

/**
 * The hop-limit control backed by the native addon in native/ (built by `npm install`, see
 * scripts/build-native.mjs). Node cannot set the TTL of a TCP socket by itself: only
 * dgram.Socket has setTTL (reference §4.1, Node.js note).
 */

/** What native/src/hop_limit.c exports. */
export interface HopLimitAddon {
  /** `family` (4 or 6) is the socket's, where the caller knows it; else the addon asks. */
  setHopLimit(fd: number, hopLimit: number, family?: 4 | 6): void;
  getHopLimit(fd: number): SocketHopLimit;
}

/** The TTL the kernel puts on a socket's next packets; `ipv6UnicastHops` on IPv6 sockets only. */
export interface SocketHopLimit {
  ipTtl?: number;
  ipv6UnicastHops?: number;
}

/**
 * Same place relative to src/imds/ and to the program, dist/bundle/imdsd.js (scripts/bundle.mjs):
 * the repository root's native/build.
 */
export const HOP_LIMIT_ADDON_PATH = fileURLToPath(
  new URL('../../native/build/Release/hop_limit.node', import.meta.url),
);

/** The addon, or why it cannot be used here. */
export function loadHopLimitAddon(
  path: string = HOP_LIMIT_ADDON_PATH,
): HopLimitAddon | { reason: string } {
  let exports: unknown;
  try {
    exports = createRequire(import.meta.url)(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const notBuilt = code === 'MODULE_NOT_FOUND';
    const why = notBuilt
      ? 'it was not built (run `npm run build:native`)'
      : (error as Error).message;
    return { reason: `the hop-limit addon ${path} cannot be loaded: ${why}` };
  }

  if (!isHopLimitAddon(exports)) return { reason: `${path} is not the hop-limit addon` };
  return exports;
}

function isHopLimitAddon(value: unknown): value is HopLimitAddon {
  const candidate = value as Partial<HopLimitAddon> | null;
  return (
    typeof candidate?.setHopLimit === 'function' && typeof candidate.getHopLimit === 'function'
  );
}

/**
 * A control that sets the socket's TTL through the addon. When it cannot, it throws rather
 * than let the token response leave with the default TTL: the front then answers 500.
 */
export function nativeHopLimitControl(addon: HopLimitAddon): HopLimitControl {
  return {
    enforced: true,
    setHopLimit(socket, hopLimit, family) {
      try {
        addon.setHopLimit(socketFd(socket), hopLimit, family);
      } catch (error) {
        const message = `cannot set hop limit ${hopLimit} on a connection: ${describeErrno(error)}`;
        throw new ImdsdError('HOP_LIMIT_UNAVAILABLE', message, { cause: error });
      }
    },
  };
}

/** The TTL a socket's next packets will carry, as the kernel reports it. */
export function readHopLimit(addon: HopLimitAddon, socket: Socket): SocketHopLimit {
  return addon.getHopLimit(socketFd(socket));
}

/**
 * The control `imdsd serve` uses: the addon's, or the not-enforced one with the reason why.
 * With `required`, a missing addon is an error instead (`--require-hop-limit`).
 */
export function loadHopLimitControl(options: {
  required: boolean;
  addonPath?: string;
}): HopLimitControl {
  const addon = loadHopLimitAddon(options.addonPath);
  if (!('reason' in addon)) return nativeHopLimitControl(addon);

  if (options.required) {
    throw new ImdsdError('HOP_LIMIT_UNAVAILABLE', `--require-hop-limit: ${addon.reason}`);
  }
  return { ...HOP_LIMIT_NOT_ENFORCED, reason: addon.reason };
}

/**
 * The file descriptor under a net.Socket. Node has no public API for it, so this reads the
 * `fd` property of the socket's libuv handle (TCPWrap; `LibuvStreamWrap::GetFD` in Node's
 * src/stream_wrap.cc), which Node has exposed on POSIX since its early versions. It is -1 on
 * Windows, and the handle is gone once the socket is destroyed: both are refused here.
 */
export function socketFd(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
    throw new ImdsdError(
      'HOP_LIMIT_UNAVAILABLE',
      socket.destroyed ? 'the connection is closed' : 'the socket has no file descriptor',
    );
  }
  return fd;
}

/** `EBADF (setsockopt(IP_TTL): Bad file descriptor)` from the addon's errno and message. */
function describeErrno(error: unknown): string {
  if (error instanceof ImdsdError) return error.message;
  const errno = (error as { errno?: unknown }).errno;
  const name = Object.entries(constants.errno).find(([, value]) => value === errno)?.[0];
  const message = error instanceof Error ? error.message : String(error);
  return name === undefined ? message : `${name} (${message})`;
}
