/**
 * Server-side printing: a get or list answered as a meta.k8s.io Table when the Accept header asks for one
 * (`application/json;as=Table;v=v1;g=meta.k8s.io`, as kubectl get sends it). Columns and cells as kube-apiserver
 * computes them for a CRD's additionalPrinterColumns: a Name column, then each printer column, its cell found by
 * its JSONPath (missing: null), strings printed, numbers and booleans kept, dates made ages on the server.
 * Learnt from kubernetes staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/tableconvertor/
 * tableconvertor.go, apimachinery/pkg/api/meta/table/table.go, apimachinery/pkg/util/duration/duration.go and
 * apiserver/pkg/endpoints/handlers/response.go (includeObject).
 */
import { canonicalJson, type ApiObject, type KindDef, type PrinterColumn } from '../kind.js';
import { mediaType } from './body.js';
import { mediaParameters } from './discovery.js';
import { badRequest } from './status.js';

/** What each row carries besides its cells (`?includeObject=`): metadata unless asked otherwise. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

const TABLE_VERSIONS = ['v1', 'v1beta1'] as const;
type TableVersion = (typeof TABLE_VERSIONS)[number];

/**
 * The Table version an Accept header asks for, or undefined when the first clause that can be served is not a
 * Table (plain JSON, YAML, `*∕*`). A Table clause of an unknown version is passed over, as kube-apiserver does.
 */
export function tableVersionAsked(accept: string | undefined): TableVersion | undefined {
  for (const clause of (accept ?? '').split(',')) {
    const type = mediaType(clause);
    if (type === undefined) continue;
    const params = mediaParameters(clause);
    if (params['as'] === undefined) return undefined;
    if (
      type === 'application/json' &&
      params['as'] === 'Table' &&
      params['g'] === 'meta.k8s.io' &&
      (TABLE_VERSIONS as readonly string[]).includes(params['v'] ?? '')
    )
      return params['v'] as TableVersion;
  }
  return undefined;
}

/** `?includeObject=`: Metadata when absent or empty; anything else but Object and None is a 400. */
export function parseIncludeObject(value: string | undefined): IncludeObject {
  if (value === undefined || value === '' || value === 'Metadata') return 'Metadata';
  if (value === 'Object' || value === 'None') return value;
  throw badRequest(
    `Unable to convert to Table as requested: includeObject: Invalid value: ${JSON.stringify(value)}: must be 'Metadata', 'Object', 'None', or empty`,
  );
}

/** The Name column every table starts with, then the kind's printer columns. */
export function columnDefinitions(def: Pick<KindDef<ApiObject>, 'printerColumns'>): TableColumnDefinition[] {
  return [
    { name: 'Name', type: 'string', format: 'name', description: 'The name of the object, unique in its namespace.', priority: 0 },
    ...def.printerColumns.map((c) => ({
      name: c.name,
      type: c.type,
      format: '',
      description: c.description ?? `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
      priority: c.priority ?? 0,
    })),
  ];
}

type PathStep = { field: string } | { index: number };

/** The simple JSONPaths printer columns use: `.a.b`, `.a[0].b`, `.a['k.e.y']`. */
export function parseSimpleJsonPath(path: string): PathStep[] {
  const steps: PathStep[] = [];
  const re = /\.([A-Za-z0-9_-]+)|\[(\d+)\]|\['([^']*)'\]/y;
  let at = 0;
  while (at < path.length) {
    re.lastIndex = at;
    const m = re.exec(path);
    if (!m) break;
    if (m[1] !== undefined) steps.push({ field: m[1] });
    else if (m[2] !== undefined) steps.push({ index: Number(m[2]) });
    else steps.push({ field: m[3]! });
    at = re.lastIndex;
  }
  if (at !== path.length) throw new Error(`unsupported printer column JSONPath ${path}`);
  return steps;
}

/** The value at a simple JSONPath (`.status.replicas`, a printer column's or a CRD scale path), undefined when absent. */
export function valueAt(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const s of parseSimpleJsonPath(path)) {
    if ('field' in s) v = v && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, s.field) ? (v as Record<string, unknown>)[s.field] : undefined;
    else v = Array.isArray(v) ? v[s.index] : undefined;
    if (v === undefined) return undefined;
  }
  return v;
}

/** Go's duration.HumanDuration: at most two units, coarser as time goes by (`45s`, `3m12s`, `5h3m`, `12d`, `2y30d`). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

/** A value as kubectl's JSONPath printer writes it: strings bare, objects and lists as JSON. */
function printed(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object') return canonicalJson(v);
  return String(v);
}

/** One cell: the column's type decides, and a value of another type is null, as the CRD table convertor does. */
export function cell(column: Pick<PrinterColumn, 'type' | 'jsonPath'>, obj: unknown, now: number): unknown {
  const v = valueAt(obj, column.jsonPath);
  if (v === undefined || v === null) return null;
  switch (column.type) {
    case 'string':
      return printed(v);
    case 'integer':
      return typeof v === 'number' ? Math.trunc(v) : null;
    case 'number':
      return typeof v === 'number' ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    case 'date': {
      if (typeof v !== 'string') return null;
      const t = Date.parse(v);
      return Number.isNaN(t) ? '<invalid>' : humanDuration(now - t);
    }
  }
}

function rowObject(obj: ApiObject, include: IncludeObject): unknown {
  if (include === 'None') return null;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export interface TableOptions {
  version: TableVersion;
  includeObject: IncludeObject;
  /** Milliseconds since the epoch: ages are computed on the server. */
  now: number;
}

/** The Table of one object (a get) or of a list page (its resourceVersion and continue kept). */
export function objectTable(
  def: Pick<KindDef<ApiObject>, 'printerColumns'>,
  value: ApiObject | { metadata?: Record<string, unknown>; items: ApiObject[] },
  options: TableOptions,
): Table {
  const isList = 'items' in value && Array.isArray(value.items);
  const objects = isList ? (value as { items: ApiObject[] }).items : [value as ApiObject];
  const listMeta = (isList ? (value.metadata ?? {}) : {}) as Table['metadata'];
  const rv = isList ? listMeta.resourceVersion : (value as ApiObject).metadata.resourceVersion;
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${options.version}`,
    metadata: {
      ...(rv ? { resourceVersion: rv } : {}),
      ...(listMeta.continue ? { continue: listMeta.continue } : {}),
      ...(listMeta.remainingItemCount !== undefined ? { remainingItemCount: listMeta.remainingItemCount } : {}),
    },
    columnDefinitions: columnDefinitions(def),
    rows: objects.map((o) => ({
      cells: [o.metadata.name, ...def.printerColumns.map((c) => cell(c, o, options.now))],
      object: rowObject(o, options.includeObject),
    })),
  };
}
