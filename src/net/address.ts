import { isIP } from 'node:net';

/** A listen address as the user wrote it (`127.0.0.1:1338`, `[::1]:0`), parsed. */
export interface ListenAddress {
  host: string;
  port: number;
  family: 4 | 6;
}

/** Parses `HOST:PORT` or `[IPV6]:PORT`; returns a message naming the problem on failure. */
export function parseListenAddress(text: string): ListenAddress | string {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (!match) return `"${text}" is not HOST:PORT (IPv6 as [ADDRESS]:PORT)`;

  const host = (match[1] ?? match[2]) as string;
  const port = Number(match[3]);
  if (port > 65535) return `port ${port} in "${text}" is above 65535`;

  const family = isIP(host) as 0 | 4 | 6;
  if (family === 0) return `"${host}" in "${text}" is not an IP address`;
  if (family === 6 && match[1] === undefined) return `IPv6 address "${host}" must be in brackets`;

  return { host, port, family };
}

export function formatListenAddress(address: { host: string; port: number }): string {
  return isIP(address.host) === 6
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/** Node reports IPv4 peers of a dual-stack socket as `::ffff:a.b.c.d`; callers want `a.b.c.d`. */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
