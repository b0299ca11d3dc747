/** The DER writer against encodings from X.690 and RFC 5280 examples, and the reader round trip. */
import { describe, expect, it } from 'vitest';
import * as der from '../../../functions/adapters/kubeadm/der.js';

const hex = (b: Buffer) => b.toString('hex');

describe('DER', () => {
  it.each([
    { name: 'sha256WithRSAEncryption', oid: '1.2.840.113549.1.1.11', out: '06092a864886f70d01010b' },
    { name: 'commonName', oid: '2.5.4.3', out: '0603550403' },
    { name: 'ecdsa-with-SHA256', oid: '1.2.840.10045.4.3.2', out: '06082a8648ce3d040302' },
    { name: 'clientAuth', oid: '1.3.6.1.5.5.7.3.2', out: '06082b06010505070302' },
  ])('encodes the object identifier $name', ({ oid, out }) => {
    expect(hex(der.oid(oid))).toBe(out);
  });

  it.each([
    { n: 0, out: '020100' },
    { n: 2, out: '020102' },
    { n: 127, out: '02017f' },
    { n: 128, out: '02020080' },
    { n: 256, out: '02020100' },
  ])('encodes the integer $n minimally and positive', ({ n, out }) => {
    expect(hex(der.smallInteger(n))).toBe(out);
  });

  it('drops leading zero bytes of an unsigned integer and keeps one before a high bit', () => {
    expect(hex(der.unsignedInteger(Buffer.from([0, 0, 0x12])))).toBe('020112');
    expect(hex(der.unsignedInteger(Buffer.from([0xff, 0x01])))).toBe('020300ff01');
  });

  it('uses the long length form from 128 bytes', () => {
    expect(hex(der.octetString(Buffer.alloc(127))).slice(0, 4)).toBe('047f');
    expect(hex(der.octetString(Buffer.alloc(128))).slice(0, 6)).toBe('048180');
    expect(hex(der.octetString(Buffer.alloc(300))).slice(0, 8)).toBe('0482012c');
  });

  it('writes KeyUsage bits with the trailing unused bits counted (digitalSignature, keyEncipherment, keyCertSign)', () => {
    expect(hex(der.namedBits([0, 2, 5]))).toBe('030202a4');
    expect(hex(der.namedBits([0]))).toBe('03020780');
  });

  it('writes UTCTime until 2049 and GeneralizedTime from 2050 (RFC 5280 4.1.2.5)', () => {
    expect(der.time(new Date('2049-12-31T23:59:59Z')).toString('latin1')).toBe('\x17\x0d491231235959Z');
    expect(der.time(new Date('2050-01-01T00:00:00Z')).toString('latin1')).toBe('\x18\x0f20500101000000Z');
  });

  it('sorts the members of a SET', () => {
    expect(hex(der.set(der.smallInteger(2), der.smallInteger(1)))).toBe('3106020101020102');
  });

  it('reads back what it writes', () => {
    const seq = der.sequence(der.oid('2.5.4.3'), der.utf8String('x'.repeat(200)), der.explicit(3, der.boolean(true)));
    const node = der.read(seq);
    expect(node.tag).toBe(0x30);
    const kids = der.children(node);
    expect(kids.map((k) => k.tag)).toEqual([0x06, 0x0c, 0xa3]);
    expect(kids[1]!.contents.toString()).toBe('x'.repeat(200));
    expect(der.children(kids[2]!)[0]!.contents).toEqual(Buffer.from([0xff]));
  });

  it('refuses a truncated element', () => {
    expect(() => der.read(Buffer.from('3005020101', 'hex'))).toThrow(RangeError);
  });
});
