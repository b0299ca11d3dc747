/**
 * JSON Patch (RFC 6902) with JSON Pointers (RFC 6901), as a PATCH with `application/json-patch+json` sends it
 * (`kubectl patch --type json`). The patch is applied to the object as stored; the result is then validated
 * as a replace by the caller.
 *
 * Refusals are worded as kube-apiserver words them (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go,
 * applyJSPatch): a body that is not a list of operations is a 400 "error decoding patch", more than 10000
 * operations a 413, and an operation that does not apply (a failed `test`, a path that is not there, an unknown
 * op) a 422 "the server rejected our request due to an error in our request". kube-apiserver says no more than
 * that; here the Status also carries a cause that names the operation and the path at fault.
 *
 * Note: kube-apiserver's JSON patch library lets `replace` of a missing object member act as `add`; RFC 6902
 * section 4.3 says the target must exist, and this follows the RFC (a typo in a path is refused, not added).
 */
import { jsonEqual } from '../kind.js';
import { isPlainObject } from './merge-patch.js';
import { ApiError, badRequest } from './status.js';

/** One operation of a JSON patch. */
export interface JsonPatchOperation {
  op: string;
  path?: unknown;
  from?: unknown;
  value?: unknown;
  /** Whether the operation had a `value` member (null is a value). */
  hasValue: boolean;
}

/** The media type of a JSON patch (RFC 6902 section 6). */
export const JSON_PATCH_TYPE = 'application/json-patch+json';

/** kube-apiserver's maxJSONPatchOperations. */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

/** The message kube-apiserver gives for any operation that does not apply. */
export const JSON_PATCH_REJECTED = 'the server rejected our request due to an error in our request';

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v);

/** Reads a parsed body as a list of operations; throws the 400 or 413 Status to answer. */
export function parseJsonPatch(body: unknown): JsonPatchOperation[] {
  if (!Array.isArray(body)) throw badRequest(`error decoding patch: a JSON patch is an array of operations, not ${shownType(body)}`);
  if (body.length > MAX_JSON_PATCH_OPERATIONS)
    throw new ApiError('RequestEntityTooLarge', `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${body.length}`);
  return body.map((op, i) => {
    if (!isPlainObject(op)) throw badRequest(`error decoding patch: operation ${i} is ${shownType(op)}, not an object`);
    const kind = op['op'];
    return {
      op: typeof kind === 'string' ? kind : '',
      path: op['path'],
      from: op['from'],
      value: op['value'],
      hasValue: Object.hasOwn(op, 'value'),
    };
  });
}

const shownType = (v: unknown) => {
  const t = typeName(v);
  return t === 'array' || t === 'object' ? `an ${t}` : `a ${t}`;
};

/** An operation that does not apply: 422 as kube-apiserver answers, with a cause naming the operation. */
function rejected(index: number, op: JsonPatchOperation, detail: string): ApiError {
  const path = typeof op.path === 'string' ? op.path : '';
  return new ApiError('Invalid', JSON_PATCH_REJECTED, {
    causes: [{ reason: 'FieldValueInvalid', field: `[${index}]${path ? ` ${path}` : ''}`, message: detail }],
  });
}

/** RFC 6901: "" is the whole document; otherwise "/"-separated tokens with ~1 for "/" and ~0 for "~". */
export function parsePointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  const tokens = pointer.slice(1).split('/');
  if (tokens.some((t) => /~(?![01])/.test(t))) return undefined;
  return tokens.map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

/** An array index: digits without a leading zero (RFC 6901 section 4); `-` (past the end) only where `end` allows it. */
function arrayIndex(token: string, length: number, end: boolean): number | undefined {
  if (end && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const n = Number(token);
  return n < length || (end && n === length) ? n : undefined;
}

const own = (o: Record<string, unknown>, key: string) => Object.hasOwn(o, key);

/** The value at `tokens`, or undefined when there is none (a JSON document never holds undefined). */
function valueAt(doc: unknown, tokens: readonly string[]): unknown {
  let at: unknown = doc;
  for (const t of tokens) {
    if (Array.isArray(at)) {
      const i = arrayIndex(t, at.length, false);
      if (i === undefined) return undefined;
      at = at[i];
    } else if (isPlainObject(at)) {
      if (!own(at, t)) return undefined;
      at = at[t];
    } else return undefined;
  }
  return at;
}

/** The container of the last token, or undefined when the parent is missing or not a container. */
function parentOf(doc: unknown, tokens: readonly string[]): Container | undefined {
  const parent = valueAt(doc, tokens.slice(0, -1));
  return Array.isArray(parent) || isPlainObject(parent) ? parent : undefined;
}

/** defineProperty, not assignment: a "__proto__" key must stay data, never become the prototype. */
function setMember(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Applies the operations in order to a copy of `doc`; `doc` itself is never changed. Throws the 422 Status of
 * the first operation that does not apply.
 */
export function applyJsonPatch(doc: unknown, operations: readonly JsonPatchOperation[]): unknown {
  let root: unknown = structuredClone(doc);
  operations.forEach((op, index) => {
    const fail = (detail: string) => rejected(index, op, detail);
    const pointer = (member: 'path' | 'from') => {
      const p = op[member];
      if (typeof p !== 'string') throw fail(`${op.op || 'an'} operation needs a "${member}" string`);
      const tokens = parsePointer(p);
      if (!tokens) throw fail(`${JSON.stringify(p)} is not a JSON pointer (RFC 6901)`);
      return tokens;
    };
    const value = () => {
      if (!op.hasValue) throw fail(`${op.op} operation needs a "value"`);
      return op.value;
    };
    const add = (tokens: string[], v: unknown, verb: string) => {
      if (tokens.length === 0) {
        root = v;
        return;
      }
      const parent = parentOf(root, tokens);
      const key = tokens.at(-1)!;
      if (parent === undefined) throw fail(`${verb} operation does not apply: doc is missing path: ${op.path as string}`);
      if (Array.isArray(parent)) {
        const i = arrayIndex(key, parent.length, true);
        if (i === undefined) throw fail(`${verb} operation does not apply: index out of bounds: ${op.path as string}`);
        parent.splice(i, 0, v);
      } else setMember(parent, key, v);
    };
    const remove = (tokens: string[], verb: string, path: string): unknown => {
      if (tokens.length === 0) throw fail(`${verb} operation does not apply: cannot remove the whole document`);
      const parent = parentOf(root, tokens);
      const key = tokens.at(-1)!;
      if (Array.isArray(parent)) {
        const i = arrayIndex(key, parent.length, false);
        if (i === undefined) throw fail(`${verb} operation does not apply: doc is missing path: ${path}`);
        return parent.splice(i, 1)[0];
      }
      if (parent === undefined || !own(parent, key)) throw fail(`${verb} operation does not apply: doc is missing path: ${path}`);
      const old = parent[key];
      delete parent[key];
      return old;
    };
    const existing = (tokens: string[], verb: string, path: string): unknown => {
      const v = valueAt(root, tokens);
      if (v === undefined) throw fail(`${verb} operation does not apply: doc is missing path: ${path}`);
      return v;
    };

    switch (op.op) {
      case 'add':
        add(pointer('path'), structuredClone(value()), 'add');
        return;
      case 'remove':
        remove(pointer('path'), 'remove', op.path as string);
        return;
      case 'replace': {
        const tokens = pointer('path');
        const v = structuredClone(value());
        existing(tokens, 'replace', op.path as string);
        if (tokens.length === 0) root = v;
        else {
          const parent = parentOf(root, tokens)!;
          if (Array.isArray(parent)) parent[Number(tokens.at(-1))] = v;
          else setMember(parent, tokens.at(-1)!, v);
        }
        return;
      }
      case 'move': {
        const from = pointer('from');
        const to = pointer('path');
        // RFC 6902 section 4.4: a location cannot be moved into one of its own children.
        if (to.length > from.length && from.every((t, i) => to[i] === t)) throw fail('move operation does not apply: a value cannot be moved into itself');
        const v = remove(from, 'move', op.from as string);
        add(to, v, 'move');
        return;
      }
      case 'copy': {
        const from = pointer('from');
        const to = pointer('path');
        add(to, structuredClone(existing(from, 'copy', op.from as string)), 'copy');
        return;
      }
      case 'test': {
        const tokens = pointer('path');
        const expected = value();
        if (!jsonEqual(valueAt(root, tokens), expected)) throw fail(`testing value ${op.path as string} failed: test failed`);
        return;
      }
      default:
        throw fail(`unexpected operation ${JSON.stringify(op.op)}: one of add, remove, replace, move, copy, test`);
    }
  });
  return root;
}
