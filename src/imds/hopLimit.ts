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
  setHopLimit(socket: Socket, hopLimit: number): void;
}

export const HOP_LIMIT_NOT_ENFORCED: HopLimitControl = {
  enforced: false,
  setHopLimit: () => undefined,
};
