import type { Socket } from 'node:net';

/**
 * Sets the IP time-to-live (IPv6 hop limit) of the packets a socket sends from now on. The IMDS
 * front calls it on the token response only, as EC2 limits only that response (reference §4.1).
 */
export interface HopLimitControl {
  /** False where the platform cannot set it: tokens then reach any distance (README, Limitations). */
  readonly enforced: boolean;
  /** Why it is not enforced (the addon is missing, say), for the startup warning. */
  readonly reason?: string;
  /**
   * `family` is the socket's address family where the caller knows it (a listener does): the
   * addon then need not ask the kernel, a system call saved on every token response.
   */
  setHopLimit(socket: Socket, hopLimit: number, family?: 4 | 6): void;
}

export const HOP_LIMIT_NOT_ENFORCED: HopLimitControl = {
  enforced: false,
  setHopLimit: () => undefined,
};
