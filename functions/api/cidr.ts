/**
 * CIDR ranges for IPv4 and IPv6: validity, host bits, overlap and the canonical text form. Addresses are parsed,
 * masked, matched and written by ipaddr.js; the checks around it keep Go's net/netip strictness (which
 * kube-apiserver and Cluster API's webhooks use) where ipaddr.js is lenient: no leading zeros in IPv4 octets or in
 * the prefix length, an embedded IPv4 only at the end and only in dotted decimal, no zone.
 */
import ipaddr from 'ipaddr.js';

export interface Cidr {
  family: 4 | 6;
  /** The network address as an integer. */
  base: bigint;
  prefix: number;
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;

const BITS = { 4: 32, 6: 128 } as const;

const toInteger = (address: Address): bigint => address.toByteArray().reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);

function toAddress(family: 4 | 6, value: bigint): Address {
  const length = BITS[family] / 8;
  return ipaddr.fromByteArray(Array.from({ length }, (_, i) => Number((value >> BigInt((length - 1 - i) * 8)) & 0xffn)));
}

/** A dotted quad of decimal octets without leading zeros (ipaddr.js would also take octal, hex and short forms). */
export function parseIPv4(s: string): bigint | undefined {
  return ipaddr.IPv4.isValidFourPartDecimal(s) ? toInteger(ipaddr.IPv4.parse(s)) : undefined;
}

export function parseIPv6(s: string): bigint | undefined {
  // Hex digits, colons and the dots of an embedded IPv4 address only: ipaddr.js would take a zone (%eth0) too.
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let text = s;
  const last = s.lastIndexOf(':');
  const tail = s.slice(last + 1);
  if (tail.includes('.')) {
    // An embedded IPv4 address, in dotted decimal, written as the two groups it stands for: ipaddr.js reads
    // octal and hex octets there, and turns '::a.b.c.d' into the IPv4-mapped '::ffff:a.b.c.d'.
    if (!ipaddr.IPv4.isValidFourPartDecimal(tail)) return undefined;
    const [a, b, c, d] = ipaddr.IPv4.parse(tail).octets as [number, number, number, number];
    text = `${s.slice(0, last + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  if (!text.split(':').every((group) => /^[0-9a-fA-F]{0,4}$/.test(group)) || !ipaddr.IPv6.isValid(text)) return undefined;
  return toInteger(ipaddr.IPv6.parse(text));
}

export type CidrResult = { ok: true; cidr: Cidr } | { ok: false; reason: string };

export function parseCidr(s: string): CidrResult {
  const slash = s.indexOf('/');
  if (slash < 0) return { ok: false, reason: 'must be in CIDR notation, for example 192.168.0.0/16' };
  const addr = s.slice(0, slash);
  const pfx = s.slice(slash + 1);
  const v4 = parseIPv4(addr);
  const family: 4 | 6 | undefined = v4 !== undefined ? 4 : addr.includes(':') ? 6 : undefined;
  const value = v4 ?? (family === 6 ? parseIPv6(addr) : undefined);
  if (value === undefined || family === undefined) return { ok: false, reason: `"${addr.slice(0, 64)}" is not a valid IPv4 or IPv6 address` };
  const bits = BITS[family];
  if (!/^(0|[1-9]\d{0,2})$/.test(pfx) || Number(pfx) > bits) return { ok: false, reason: `prefix length must be a number from 0 to ${bits}` };
  const prefix = Number(pfx);
  const network = networkAddress(family, value, prefix);
  if (network !== value) return { ok: false, reason: `has host bits set; the network address is ${format({ family, base: network, prefix })}` };
  return { ok: true, cidr: { family, base: value, prefix } };
}

/** The address with its host bits cleared: the address masked by the prefix's subnet mask. */
function networkAddress(family: 4 | 6, value: bigint, prefix: number): bigint {
  const mask = (family === 4 ? ipaddr.IPv4 : ipaddr.IPv6).subnetMaskFromPrefixLength(prefix);
  return value & toInteger(mask);
}

/** Two ranges overlap when one contains the other (CIDR ranges never partly overlap). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const x = toAddress(a.family, a.base);
  const y = toAddress(b.family, b.base);
  return x.match(y, b.prefix) || y.match(x, a.prefix);
}

/** Number of addresses in the range. */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(BITS[c.family] - c.prefix);
}

/** The address in its canonical text form: dotted quad, or RFC 5952 (lower case, longest zero run as '::'). */
export function formatIp(family: 4 | 6, value: bigint): string {
  return toAddress(family, value).toString();
}

/** The canonical text form of a CIDR. */
export function format(c: Cidr): string {
  return `${formatIp(c.family, c.base)}/${c.prefix}`;
}
