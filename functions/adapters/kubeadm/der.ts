/**
 * Just enough ASN.1 DER (ITU-T X.690) to write X.509 certificates and to read the few fields clusterless needs
 * back out of them. node:crypto signs and parses certificates but cannot build one; the alternative is an
 * X.509 library with a dependency tree of its own, for the dozen encodings below.
 */

/** One DER element, encoded: tag, length, contents. */
export type Der = Buffer;

const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

function lengthOf(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** An element with any tag byte (universal, or context-specific for EXPLICIT and IMPLICIT tagging). */
export function element(tag: number, contents: Uint8Array): Der {
  return Buffer.concat([Buffer.from([tag]), lengthOf(contents.length), contents]);
}

export const sequence = (...items: Der[]): Der => element(Tag.sequence, Buffer.concat(items));
/** SET OF: DER wants the encodings sorted. */
export const set = (...items: Der[]): Der => element(Tag.set, Buffer.concat([...items].sort(Buffer.compare)));
export const nullValue = (): Der => element(Tag.null, Buffer.alloc(0));
export const boolean = (v: boolean): Der => element(Tag.boolean, Buffer.from([v ? 0xff : 0x00]));
export const octetString = (bytes: Uint8Array): Der => element(Tag.octetString, bytes);
export const utf8String = (s: string): Der => element(Tag.utf8String, Buffer.from(s, 'utf8'));
/** [n] EXPLICIT: a constructed context-specific wrapper around one element. */
export const explicit = (n: number, inner: Der): Der => element(0xa0 | n, inner);
/** [n] IMPLICIT of a primitive type: the contents with the context-specific tag instead of the type's. */
export const implicit = (n: number, contents: Uint8Array): Der => element(0x80 | n, contents);

/** A non-negative INTEGER from big-endian bytes: leading zeros dropped, one 0x00 kept when the top bit is set. */
export function unsignedInteger(bytes: Uint8Array): Der {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let body = Buffer.from(bytes.subarray(i));
  if (body.length === 0) body = Buffer.from([0]);
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return element(Tag.integer, body);
}

export const smallInteger = (n: number): Der => {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a small non-negative integer: ${n}`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return unsignedInteger(Buffer.from(bytes.length ? bytes : [0]));
};

/** A BIT STRING of whole bytes (keys, signatures): no unused bits. */
export const bitString = (bytes: Uint8Array): Der => element(Tag.bitString, Buffer.concat([Buffer.from([0]), bytes]));

/**
 * A named-bit-list BIT STRING (KeyUsage): bit 0 is the most significant bit of the first byte, and DER drops
 * trailing zero bits, counting the unused ones in the first contents byte.
 */
export function namedBits(bits: readonly number[]): Der {
  if (bits.length === 0) return element(Tag.bitString, Buffer.from([0]));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const b of bits) bytes[Math.floor(b / 8)]! |= 0x80 >> b % 8;
  const unused = 7 - (highest % 8);
  return element(Tag.bitString, Buffer.concat([Buffer.from([unused]), bytes]));
}

export function oid(dotted: string): Der {
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`not an object identifier: ${dotted}`);
    return Number(a);
  });
  if (arcs.length < 2 || arcs[0]! > 2) throw new RangeError(`not an object identifier: ${dotted}`);
  const out: number[] = [];
  const base128 = (v: number) => {
    const chunk = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) chunk.unshift((x & 0x7f) | 0x80);
    out.push(...chunk);
  };
  base128(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) base128(a);
  return element(Tag.oid, Buffer.from(out));
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, always UTC with seconds. */
export function time(d: Date): Der {
  const y = d.getUTCFullYear();
  const rest = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return element(Tag.utcTime, Buffer.from(`${pad(y % 100)}${rest}`, 'ascii'));
  return element(Tag.generalizedTime, Buffer.from(`${pad(y, 4)}${rest}`, 'ascii'));
}

// ---------------------------------------------------------------------------------------------------------
// Reading

export interface Node {
  tag: number;
  /** The contents, without tag and length. */
  contents: Buffer;
  /** The whole element. */
  raw: Buffer;
}

/** Reads one element at `offset`; throws on anything malformed (indefinite lengths included: DER has none). */
export function read(buf: Buffer, offset = 0): Node & { end: number } {
  if (offset + 2 > buf.length) throw new RangeError('DER: truncated element');
  const tag = buf[offset]!;
  let len = buf[offset + 1]!;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > buf.length) throw new RangeError('DER: bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  const end = start + len;
  if (end > buf.length) throw new RangeError('DER: element runs past the end');
  return { tag, contents: buf.subarray(start, end), raw: buf.subarray(offset, end), end };
}

/** The elements inside a constructed element (SEQUENCE, SET, [n] EXPLICIT). */
export function children(node: Node): Node[] {
  const out: Node[] = [];
  for (let at = 0; at < node.contents.length; ) {
    const child = read(node.contents, at);
    out.push(child);
    at = child.end;
  }
  return out;
}

export const Tags = Tag;
