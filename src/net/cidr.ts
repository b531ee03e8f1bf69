import { isIP } from 'node:net';
import { unmapIpv4 } from './address.ts';

/** A parsed CIDR block; addresses are held as bigints so IPv4 and IPv6 share one code path. */
export interface Cidr {
  text: string;
  family: 4 | 6;
  network: bigint;
  prefixLength: number;
}

export function parseCidr(text: string): Cidr | string {
  const [address, prefix, extra] = text.split('/');
  if (address === undefined || extra !== undefined) return `"${text}" is not a CIDR block`;

  const family = isIP(address) as 0 | 4 | 6;
  if (family === 0) return `"${address}" in "${text}" is not an IP address`;

  const bits = family === 4 ? 32 : 128;
  const prefixLength = prefix === undefined ? bits : Number(prefix);
  if (!/^\d+$/.test(prefix ?? String(bits)) || prefixLength > bits) {
    return `prefix "/${prefix}" in "${text}" must be 0..${bits}`;
  }

  const network = addressToBigInt(address, family) & mask(prefixLength, bits);
  return { text, family, network, prefixLength };
}

export function cidrContains(cidr: Cidr, address: string): boolean {
  const plain = unmapIpv4(address);
  const family = isIP(plain) as 0 | 4 | 6;
  if (family !== cidr.family) return false;

  const bits = family === 4 ? 32 : 128;
  return (addressToBigInt(plain, family) & mask(cidr.prefixLength, bits)) === cidr.network;
}

function mask(prefixLength: number, bits: number): bigint {
  if (prefixLength === 0) return 0n;
  return ((1n << BigInt(prefixLength)) - 1n) << BigInt(bits - prefixLength);
}

function addressToBigInt(address: string, family: 4 | 6): bigint {
  if (family === 4) {
    return address.split('.').reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
  }
  return expandIpv6(address).reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

/** Eight 16-bit groups of an IPv6 address, with `::` and an embedded IPv4 tail expanded. */
function expandIpv6(address: string): number[] {
  const withoutZone = address.split('%')[0] as string;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(withoutZone);
  let text = withoutZone;
  if (tail) {
    const [a, b, c, d] = (tail[1] as string).split('.').map(Number) as [
      number,
      number,
      number,
      number,
    ];
    text =
      withoutZone.slice(0, -(tail[1] as string).length) +
      `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }

  const [head, rest] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - headGroups.length - restGroups.length;
  const groups =
    rest === undefined ? headGroups : [...headGroups, ...Array(missing).fill('0'), ...restGroups];
  return groups.map((group) => parseInt(group, 16));
}
