/** CIDR parsing for IPv4 and IPv6 with BigInt arithmetic: validity, host bits and overlap. */

export interface Cidr {
  family: 4 | 6;
  /** The network address as an integer. */
  base: bigint;
  prefix: number;
}

function parseIPv4(s: string): bigint | undefined {
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

function parseIPv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  // An embedded IPv4 tail counts as two groups.
  const expand = (gs: string[]): number[] | undefined => {
    const out: number[] = [];
    for (let i = 0; i < gs.length; i++) {
      const g = gs[i]!;
      if (g.includes('.')) {
        if (i !== gs.length - 1) return undefined;
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
  const h = expand(head);
  const t = expand(tail);
  if (!h || !t) return undefined;
  const missing = 8 - h.length - t.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...h, ...new Array<number>(missing).fill(0), ...t];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

export type CidrResult = { ok: true; cidr: Cidr } | { ok: false; reason: string };

export function parseCidr(s: string): CidrResult {
  const slash = s.indexOf('/');
  if (slash < 0) return { ok: false, reason: 'must be in CIDR notation, for example 192.168.0.0/16' };
  const addr = s.slice(0, slash);
  const pfx = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(pfx)) return { ok: false, reason: 'prefix length must be a number' };
  const prefix = Number(pfx);
  const v4 = parseIPv4(addr);
  const family: 4 | 6 | undefined = v4 !== undefined ? 4 : addr.includes(':') ? 6 : undefined;
  const value = v4 ?? (family === 6 ? parseIPv6(addr) : undefined);
  if (value === undefined || family === undefined) return { ok: false, reason: `"${addr.slice(0, 64)}" is not a valid IP address` };
  const bits = family === 4 ? 32 : 128;
  if (prefix > bits) return { ok: false, reason: `prefix length must be between 0 and ${bits}` };
  const hostBits = BigInt(bits - prefix);
  const hostMask = (1n << hostBits) - 1n;
  if ((value & hostMask) !== 0n) return { ok: false, reason: `has host bits set; the network address is ${format({ family, base: value & ~hostMask, prefix })}` };
  return { ok: true, cidr: { family, base: value, prefix } };
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const bits = a.family === 4 ? 32 : 128;
  const p = Math.min(a.prefix, b.prefix);
  const shift = BigInt(bits - p);
  return a.base >> shift === b.base >> shift;
}

export function format(c: Cidr): string {
  if (c.family === 4) {
    const o = [24n, 16n, 8n, 0n].map((s) => String((c.base >> s) & 0xffn));
    return `${o.join('.')}/${c.prefix}`;
  }
  const gs: string[] = [];
  for (let i = 7; i >= 0; i--) gs.push(((c.base >> BigInt(i * 16)) & 0xffffn).toString(16));
  return `${gs.join(':')}/${c.prefix}`;
}
