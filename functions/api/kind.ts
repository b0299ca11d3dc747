import type { z } from 'zod';
import type { Condition } from './common.js';
import type { ObjectMeta } from './meta.js';

/**
 * One invalid field, as Kubernetes reports it in Status.details.causes. The message reads as Kubernetes'
 * field errors do after the field: `Required value`, `Invalid value: "Foo": must be ...`,
 * `Unsupported value: "x": supported values: "a", "b"`, `Forbidden: field is immutable`, so that
 * `${field}: ${message}` is what kubectl users are used to.
 */
export interface FieldCause {
  /** Dotted path with [i] for list items and [key] for map keys, e.g. spec.template.spec.version. */
  field: string;
  message: string;
  /** Kubernetes' cause type. */
  reason?: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueDuplicate' | 'FieldValueTooLong';
}

/** A value as Kubernetes prints it in a field error: strings quoted, numbers bare, big things left out. */
function shown(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return JSON.stringify(value.length > 256 ? `${value.slice(0, 256)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return undefined;
}

/** Makers of causes, one per Kubernetes field error type. */
export const cause = {
  required(field: string, detail?: string): FieldCause {
    return { field, reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value' };
  },
  invalid(field: string, value: unknown, detail: string): FieldCause {
    const v = shown(value);
    return { field, reason: 'FieldValueInvalid', message: v === undefined ? `Invalid value: ${detail}` : `Invalid value: ${v}: ${detail}` };
  },
  notSupported(field: string, value: unknown, supported: readonly unknown[]): FieldCause {
    const v = shown(value);
    const list = supported.map((s) => (typeof s === 'string' ? JSON.stringify(s) : String(s))).join(', ');
    return { field, reason: 'FieldValueNotSupported', message: `Unsupported value: ${v ?? 'value'}: supported values: ${list}` };
  },
  forbidden(field: string, detail: string): FieldCause {
    return { field, reason: 'FieldValueForbidden', message: `Forbidden: ${detail}` };
  },
  duplicate(field: string, value: unknown, detail?: string): FieldCause {
    const v = shown(value);
    return { field, reason: 'FieldValueDuplicate', message: `Duplicate value: ${v ?? 'value'}${detail ? `: ${detail}` : ''}` };
  },
  tooLong(field: string, detail: string): FieldCause {
    return { field, reason: 'FieldValueTooLong', message: `Too long: ${detail}` };
  },
  /** A field the kind does not have (strict field validation). */
  unknownField(field: string): FieldCause {
    return { field, reason: 'FieldValueNotSupported', message: `unknown field "${field}"` };
  },
};

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

export interface UpdateRuleOptions {
  /** A rollback may take the version down; the version skew rule then only refuses skipped minors. */
  allowVersionDowngrade?: boolean;
}

/** Everything the API, the store, the CRD generator and the CLI need to know of one kind. */
export interface KindDef<T extends ApiObject = ApiObject> {
  kind: T['kind'];
  plural: string;
  singular: string;
  shortNames: readonly string[];
  /**
   * The whole object; parsing fills defaults and refuses unknown fields. Parsing is idempotent (a parsed
   * object parses to itself) and never shares arrays or objects between results.
   */
  schema: z.ZodType<T>;
  /** The cluster the object belongs to: its partition in the store. Undefined for namespace-level kinds. */
  clusterNameOf(obj: T): string | undefined;
  /** Rules that compare the stored object with the new one (immutability, version skew). */
  validateUpdate?(oldObj: T, newObj: T, options?: UpdateRuleOptions): FieldCause[];
  printerColumns: readonly PrinterColumn[];
  /** The finalizer the API adds at creation when objects of this kind need teardown. */
  finalizer?: string;
  /** Categories for `kubectl get clusterless` style grouping. */
  categories?: readonly string[];
  /** Where a scale subresource finds replicas and the selector (CRD `subresources.scale`, `kubectl scale`). */
  scale?: ScaleSubresource;
}

/** JSON paths of a scale subresource, as a CRD declares them. */
export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
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
  return jsonEqual(oldValue, newValue) ? [] : [cause.invalid(field, newValue, 'field is immutable')];
}
