import type { z } from 'zod';
import type { Condition } from './common.js';
import type { ObjectMeta } from './meta.js';

/** One invalid field, as Kubernetes reports it in Status.details.causes. */
export interface FieldCause {
  /** Dotted path with [i] for list items, e.g. spec.template.spec.version. */
  field: string;
  message: string;
  /** Kubernetes' cause type. */
  reason?: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueDuplicate' | 'FieldValueTooLong';
}

/** The shape every stored object has. */
export interface ApiObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: { conditions?: Condition[]; observedGeneration?: number } & Record<string, unknown>;
}

/** A printer column as in a CRD's additionalPrinterColumns, reused by the CLI tables. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  /** 0 in the default table, 1 only with -o wide. */
  priority?: 0 | 1;
}

/** Everything the API, the store, the CRD generator and the CLI need to know of one kind. */
export interface KindDef<T extends ApiObject = ApiObject> {
  kind: T['kind'];
  plural: string;
  singular: string;
  shortNames: readonly string[];
  /** The whole object; parsing fills defaults and refuses unknown fields. */
  schema: z.ZodType<T>;
  /** The cluster the object belongs to: its partition in the store. Undefined for namespace-level kinds. */
  clusterNameOf(obj: T): string | undefined;
  /** Rules that compare the stored object with the new one (immutability, version skew). */
  validateUpdate?(oldObj: T, newObj: T): FieldCause[];
  printerColumns: readonly PrinterColumn[];
  /** The finalizer the API adds at creation when objects of this kind need teardown. */
  finalizer?: string;
  /** Categories for `kubectl get clusterless` style grouping. */
  categories?: readonly string[];
}

export function defineKind<T extends ApiObject>(def: KindDef<T>): KindDef<T> {
  return def;
}

/** Compares two values as JSON documents (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : val,
  );
}

/** A cause for a field that must not change after creation. */
export function immutable(field: string, oldValue: unknown, newValue: unknown): FieldCause[] {
  return jsonEqual(oldValue, newValue)
    ? []
    : [{ field, reason: 'FieldValueInvalid', message: 'field is immutable' }];
}
