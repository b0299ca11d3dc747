import { GROUP } from '../../functions/api/group-version.js';
import type { ApiObject, KindDef, PrinterColumn } from '../../functions/api/kind.js';
import type { Colors } from '../io.js';
import { ageOf } from './duration.js';

/** Header names the CLI prints differently from the CRD's printer columns (`get machines` shows NODE). */
const HEADER_RENAMES: Record<string, string> = { NodeName: 'NODE' };

export interface Column {
  header: string;
  cell(obj: ApiObject, now: number, colors: Colors): string;
}

/** Reads a printer column's simple JSONPath (.a.b, .a[0].b) from an object. */
export function jsonPathValue(obj: unknown, path: string): unknown {
  let value: unknown = obj;
  for (const m of path.matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = m[1] !== undefined ? (value as Record<string, unknown>)[m[1]] : (value as unknown[])[Number(m[2])];
  }
  return value;
}

/** kubectl prints <none> where a column has no value: blank cells would shift the columns of `awk '{print $3}'`. */
export const NONE = '<none>';

function formatValue(col: PrinterColumn, value: unknown, now: number): string {
  if (value === undefined || value === null || value === '') return NONE;
  if (col.type === 'date') return ageOf(value, now);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Colours for phases and readiness, as a glance at a terminal table needs them. */
export function colorPhase(value: string, colors: Colors): string {
  switch (value) {
    case 'Running':
    case 'Provisioned':
    case 'True':
      return colors.green(value);
    case 'Failed':
    case 'False':
      return colors.red(value);
    case 'Pending':
    case 'Provisioning':
    case 'ScalingUp':
    case 'ScalingDown':
      return colors.yellow(value);
    case 'Deleting':
    case 'Deleted':
      return colors.dim(value);
    default:
      return value;
  }
}

function printerColumn(col: PrinterColumn): Column {
  const header = (HEADER_RENAMES[col.name] ?? col.name).toUpperCase();
  const colored = header === 'PHASE';
  return {
    header,
    cell: (obj, now, colors) => {
      const text = formatValue(col, jsonPathValue(obj, col.jsonPath), now);
      return colored ? colorPhase(text, colors) : text;
    },
  };
}

/**
 * The columns of `get KIND`: NAME (after NAMESPACE with -A), the kind's printer columns with AGE last, as
 * kubectl's own tables have it (machines: NAME CLUSTER NODE PHASE VERSION AGE), and with -o wide the
 * priority-1 columns after AGE.
 */
export function columnsFor(def: KindDef, options: { wide?: boolean; allNamespaces?: boolean } = {}): Column[] {
  const normal = def.printerColumns.filter((c) => (c.priority ?? 0) === 0);
  const dates = normal.filter((c) => c.type === 'date');
  const others = normal.filter((c) => c.type !== 'date');
  const wide = options.wide ? def.printerColumns.filter((c) => c.priority === 1) : [];
  return [
    ...(options.allNamespaces ? [{ header: 'NAMESPACE', cell: (o: ApiObject) => o.metadata.namespace ?? 'default' }] : []),
    { header: 'NAME', cell: (o: ApiObject) => o.metadata.name },
    ...[...others, ...dates, ...wide].map(printerColumn),
  ];
}

export function rowOf(columns: readonly Column[], obj: ApiObject, now: number, colors: Colors): string[] {
  return columns.map((c) => c.cell(obj, now, colors));
}

/** Objects in the order kubectl lists them: by namespace, then name. */
export function sortObjects<T extends ApiObject>(items: readonly T[]): T[] {
  const key = (o: ApiObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** `machinedeployment.clusterless.dev/name`, the way kubectl names an object in its messages. */
export function qualifiedName(def: KindDef, name: string): string {
  return `${def.singular}.${GROUP}/${name}`;
}
