/**
 * JSON Patch (RFC 6902) and JSON Pointer (RFC 6901): every operation, the pointer escapes, the examples of RFC
 * 6902's appendix A that apply to objects, and the Status each refusal is (worded as kube-apiserver words it).
 */
import { describe, expect, it } from 'vitest';
import { JSON_PATCH_REJECTED, MAX_JSON_PATCH_OPERATIONS, applyJsonPatch, parseJsonPatch, parsePointer } from '../../../functions/api/http/json-patch.js';
import { ApiError } from '../../../functions/api/http/status.js';

const patched = (doc: unknown, ops: unknown[]) => applyJsonPatch(doc, parseJsonPatch(ops));

function refusal(f: () => unknown): ApiError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected a refusal');
}

describe('parsePointer', () => {
  it.each([
    { name: 'the whole document', pointer: '', tokens: [] },
    { name: 'a member', pointer: '/spec/replicas', tokens: ['spec', 'replicas'] },
    { name: '~1 is a slash', pointer: '/metadata/labels/clusterless.dev~1cluster-name', tokens: ['metadata', 'labels', 'clusterless.dev/cluster-name'] },
    { name: '~0 is a tilde, decoded after ~1', pointer: '/a~01', tokens: ['a~1'] },
    { name: 'an empty member name', pointer: '/', tokens: [''] },
  ])('$name', ({ pointer, tokens }) => {
    expect(parsePointer(pointer)).toEqual(tokens);
  });

  it.each(['spec', '/a~2', '/a~'])('refuses %j', (pointer) => {
    expect(parsePointer(pointer)).toBeUndefined();
  });
});

describe('applyJsonPatch', () => {
  const doc = { spec: { replicas: 3, list: ['a', 'b'] }, metadata: { labels: { 'x/y': '1' } } };

  it.each([
    { name: 'add a member', ops: [{ op: 'add', path: '/spec/paused', value: true }], want: { ...doc, spec: { ...doc.spec, paused: true } } },
    { name: 'add replaces a present member', ops: [{ op: 'add', path: '/spec/replicas', value: 5 }], want: { ...doc, spec: { ...doc.spec, replicas: 5 } } },
    {
      name: 'add inserts into an array',
      ops: [{ op: 'add', path: '/spec/list/1', value: 'z' }],
      want: { ...doc, spec: { ...doc.spec, list: ['a', 'z', 'b'] } },
    },
    { name: 'add appends with -', ops: [{ op: 'add', path: '/spec/list/-', value: 'z' }], want: { ...doc, spec: { ...doc.spec, list: ['a', 'b', 'z'] } } },
    { name: 'add null is a value', ops: [{ op: 'add', path: '/spec/x', value: null }], want: { ...doc, spec: { ...doc.spec, x: null } } },
    { name: 'remove a member', ops: [{ op: 'remove', path: '/spec/replicas' }], want: { ...doc, spec: { list: ['a', 'b'] } } },
    { name: 'remove an array item', ops: [{ op: 'remove', path: '/spec/list/0' }], want: { ...doc, spec: { ...doc.spec, list: ['b'] } } },
    { name: 'replace', ops: [{ op: 'replace', path: '/spec/replicas', value: 7 }], want: { ...doc, spec: { ...doc.spec, replicas: 7 } } },
    {
      name: 'replace through an escaped key',
      ops: [{ op: 'replace', path: '/metadata/labels/x~1y', value: '2' }],
      want: { ...doc, metadata: { labels: { 'x/y': '2' } } },
    },
    {
      name: 'move',
      ops: [{ op: 'move', from: '/spec/replicas', path: '/spec/count' }],
      want: { ...doc, spec: { list: ['a', 'b'], count: 3 } },
    },
    {
      name: 'copy',
      ops: [{ op: 'copy', from: '/spec/list', path: '/spec/other' }],
      want: { ...doc, spec: { ...doc.spec, other: ['a', 'b'] } },
    },
    {
      name: 'test then replace',
      ops: [
        { op: 'test', path: '/spec/replicas', value: 3 },
        { op: 'replace', path: '/spec/replicas', value: 4 },
      ],
      want: { ...doc, spec: { ...doc.spec, replicas: 4 } },
    },
    { name: 'test compares objects whatever their key order', ops: [{ op: 'test', path: '/spec', value: { list: ['a', 'b'], replicas: 3 } }], want: doc },
  ])('$name', ({ ops, want }) => {
    expect(patched(doc, ops)).toEqual(want);
  });

  it('never changes the document it is given, nor shares the values it adds', () => {
    const value = { deep: [1] };
    const before = structuredClone(doc);
    const out = patched(doc, [
      { op: 'add', path: '/spec/v', value },
      { op: 'remove', path: '/spec/list/0' },
    ]) as { spec: { v: { deep: number[] } } };
    out.spec.v.deep.push(2);
    expect(doc).toEqual(before);
    expect(value).toEqual({ deep: [1] });
  });

  it('keeps a "__proto__" member as data', () => {
    const out = patched({}, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]) as Record<string, unknown>;
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each([
    { name: 'a failed test', ops: [{ op: 'test', path: '/spec/replicas', value: 5 }], cause: 'testing value /spec/replicas failed: test failed' },
    { name: 'a test of a missing path', ops: [{ op: 'test', path: '/spec/nope', value: null }], cause: 'testing value /spec/nope failed' },
    {
      name: 'remove of a missing member',
      ops: [{ op: 'remove', path: '/spec/nope' }],
      cause: 'remove operation does not apply: doc is missing path: /spec/nope',
    },
    { name: 'replace of a missing member', ops: [{ op: 'replace', path: '/spec/nope', value: 1 }], cause: 'replace operation does not apply' },
    { name: 'add under a missing parent', ops: [{ op: 'add', path: '/spec/a/b', value: 1 }], cause: 'add operation does not apply: doc is missing path' },
    { name: 'add past the end of an array', ops: [{ op: 'add', path: '/spec/list/3', value: 1 }], cause: 'index out of bounds' },
    { name: 'an index with a leading zero', ops: [{ op: 'remove', path: '/spec/list/01' }], cause: 'doc is missing path' },
    { name: 'move from a missing member', ops: [{ op: 'move', from: '/spec/nope', path: '/spec/x' }], cause: 'move operation does not apply' },
    { name: 'move into itself', ops: [{ op: 'move', from: '/spec', path: '/spec/inner' }], cause: 'cannot be moved into itself' },
    { name: 'an unknown op', ops: [{ op: 'bogus', path: '/spec' }], cause: 'unexpected operation "bogus"' },
    { name: 'a missing path', ops: [{ op: 'add', value: 1 }], cause: 'needs a "path" string' },
    { name: 'a missing value', ops: [{ op: 'add', path: '/spec/x' }], cause: 'needs a "value"' },
    { name: 'a pointer without a leading slash', ops: [{ op: 'add', path: 'spec/x', value: 1 }], cause: 'is not a JSON pointer' },
    { name: 'removing the whole document', ops: [{ op: 'remove', path: '' }], cause: 'cannot remove the whole document' },
  ])('refuses $name with 422 as kube-apiserver words it', ({ ops, cause }) => {
    const err = refusal(() => patched(doc, ops));
    expect(err.status.code).toBe(422);
    expect(err.status.reason).toBe('Invalid');
    expect(err.status.message).toBe(JSON_PATCH_REJECTED);
    expect(err.status.details?.causes?.[0]?.message).toContain(cause);
    expect(err.status.details?.causes?.[0]?.field).toMatch(/^\[0\]/);
  });

  it('names the operation at fault by its index, and applies nothing of a patch that fails part way', () => {
    const err = refusal(() =>
      patched(doc, [
        { op: 'replace', path: '/spec/replicas', value: 9 },
        { op: 'test', path: '/spec/replicas', value: 3 },
      ]),
    );
    expect(err.status.details?.causes?.[0]?.field).toBe('[1] /spec/replicas');
    expect(doc.spec.replicas).toBe(3);
  });
});

describe('parseJsonPatch', () => {
  it.each([
    { name: 'an object', body: { op: 'add' }, message: 'error decoding patch: a JSON patch is an array of operations, not an object' },
    { name: 'a string', body: 'x', message: 'error decoding patch: a JSON patch is an array of operations, not a string' },
    { name: 'an operation that is not an object', body: [1], message: 'error decoding patch: operation 0 is a number, not an object' },
  ])('refuses $name with 400', ({ body, message }) => {
    const err = refusal(() => parseJsonPatch(body));
    expect(err.status.code).toBe(400);
    expect(err.status.message).toBe(message);
  });

  it(`refuses more than ${MAX_JSON_PATCH_OPERATIONS} operations with 413, as kube-apiserver does`, () => {
    const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '', value: {} }));
    const err = refusal(() => parseJsonPatch(ops));
    expect(err.status.code).toBe(413);
    expect(err.status.message).toBe(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${MAX_JSON_PATCH_OPERATIONS + 1}`);
    expect(parseJsonPatch(ops.slice(1))).toHaveLength(MAX_JSON_PATCH_OPERATIONS);
  });
});
