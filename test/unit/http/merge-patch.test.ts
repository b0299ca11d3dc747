import { describe, expect, it } from 'vitest';
import { mergePatch } from '../../../functions/api/http/merge-patch.js';

// The examples of RFC 7386 Appendix A.
const rfc = [
  { name: 'replace a value', target: { a: 'b' }, patch: { a: 'c' }, result: { a: 'c' } },
  { name: 'add a key', target: { a: 'b' }, patch: { b: 'c' }, result: { a: 'b', b: 'c' } },
  { name: 'remove a key', target: { a: 'b' }, patch: { a: null }, result: {} },
  { name: 'remove one of two keys', target: { a: 'b', b: 'c' }, patch: { a: null }, result: { b: 'c' } },
  { name: 'replace an array by a scalar', target: { a: ['b'] }, patch: { a: 'c' }, result: { a: 'c' } },
  { name: 'replace a scalar by an array', target: { a: 'c' }, patch: { a: ['b'] }, result: { a: ['b'] } },
  { name: 'merge nested objects', target: { a: { b: 'c' } }, patch: { a: { b: 'd', c: null } }, result: { a: { b: 'd' } } },
  { name: 'replace an array of objects whole', target: { a: [{ b: 'c' }] }, patch: { a: [1] }, result: { a: [1] } },
  { name: 'replace an array whole', target: ['a', 'b'], patch: ['c', 'd'], result: ['c', 'd'] },
  { name: 'replace an object by an array', target: { a: 'b' }, patch: ['c'], result: ['c'] },
  { name: 'replace by null', target: { a: 'foo' }, patch: null, result: null },
  { name: 'replace by a string', target: { a: 'foo' }, patch: 'bar', result: 'bar' },
  { name: 'keep nulls out of new objects', target: { e: null }, patch: { a: 1 }, result: { e: null, a: 1 } },
  { name: 'an array target becomes an object', target: [1, 2], patch: { a: 'b', c: null }, result: { a: 'b' } },
  { name: 'nested null removal in a new object', target: {}, patch: { a: { bb: { ccc: null } } }, result: { a: { bb: {} } } },
];

describe('mergePatch (RFC 7386)', () => {
  it.each(rfc)('$name', ({ target, patch, result }) => {
    const before = JSON.stringify(target);
    expect(mergePatch(target, patch)).toEqual(result);
    expect(JSON.stringify(target)).toBe(before); // the target is not mutated
  });

  it('keeps a "__proto__" key as an own property instead of setting the prototype', () => {
    const out = mergePatch({}, JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect((out as { polluted?: boolean }).polluted).toBeUndefined();
  });
});
