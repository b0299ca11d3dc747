/**
 * CIDR parsing for IPv4 and IPv6 with BigInt arithmetic: validity, host bits, overlap and the canonical
 * text form. Strict like Go's net/netip (which kube-apiserver and Cluster API's webhooks use): no leading
 * zeros in IPv4 octets or in the prefix length, at most one '::', an embedded IPv4 only at the end.
 */

export interface Cidr {
  family: 4 | 6;
  /** The network address as an integer. */
  base: bigint;
  prefix: number;
}

export function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

export function parseIPv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const compressed = halves.length === 2;
  const groups = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const tail = compressed ? groups(halves[1]!) : [];
  // An embedded IPv4 address counts as two groups, and only as the last thing in the address.
  const expand = (gs: string[], last: boolean): number[] | undefined => {
    const out: number[] = [];
    for (let i = 0; i < gs.length; i++) {
      const g = gs[i]!;
      if (g.includes('.')) {
        if (!last || i !== gs.length - 1) return undefined;
        const v4 = parseIPv4(g);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const h = expand(head, !compressed);
  const t = expand(tail, true);
  if (!h || !t) return undefined;
  const missing = 8 - h.length - t.length;
  // '::' stands for at least one group of zeros.
  if (compressed ? missing < 1 : missing !== 0) return undefined;
  const all = [...h, ...new Array<number>(missing).fill(0), ...t];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
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
  const bits = family === 4 ? 32 : 128;
  if (!/^(0|[1-9]\d{0,2})$/.test(pfx) || Number(pfx) > bits)
    return { ok: false, reason: `prefix length must be a number from 0 to ${bits}` };
  const prefix = Number(pfx);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  if ((value & hostMask) !== 0n)
    return { ok: false, reason: `has host bits set; the network address is ${format({ family, base: value & ~hostMask, prefix })}` };
  return { ok: true, cidr: { family, base: value, prefix } };
}

/** Two ranges overlap when one contains the other (CIDR ranges never partly overlap). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const bits = a.family === 4 ? 32 : 128;
  const shift = BigInt(bits - Math.min(a.prefix, b.prefix));
  return a.base >> shift === b.base >> shift;
}

/** Number of addresses in the range. */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt((c.family === 4 ? 32 : 128) - c.prefix);
}

/** The address in its canonical text form: dotted quad, or RFC 5952 (lower case, longest zero run as '::'). */
export function formatIp(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const gs: number[] = [];
  for (let i = 7; i >= 0; i--) gs.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // The longest run of two or more zero groups (the first one on a tie) becomes '::'.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (gs[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && gs[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((g) => g.toString(16)).join(':');
  if (best < 0) return hex(gs);
  return `${hex(gs.slice(0, best))}::${hex(gs.slice(best + bestLen))}`;
}

/** The canonical text form of a CIDR. */
export function format(c: Cidr): string {
  return `${formatIp(c.family, c.base)}/${c.prefix}`;
}
