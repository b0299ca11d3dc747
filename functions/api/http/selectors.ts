import type { ApiObject } from '../kind.js';
import type { LabelSelector } from '../common.js';
import { labelValueError, qualifiedNameError } from '../meta.js';
import { badRequest } from './status.js';

type Expression = NonNullable<LabelSelector['matchExpressions']>[number];

/** Splits on the commas that separate requirements, not those inside `in (a,b)`. */
function requirements(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((r) => r.trim());
}

function checkKey(key: string, selector: string): string {
  const e = qualifiedNameError(key);
  if (e) throw badRequest(`unable to parse label selector "${selector}": invalid label key "${key}": ${e}`);
  return key;
}

function checkValue(value: string, selector: string): string {
  const e = labelValueError(value);
  if (e) throw badRequest(`unable to parse label selector "${selector}": invalid label value "${value}": ${e}`);
  return value;
}

/**
 * Parses a `labelSelector=` query as Kubernetes writes it: `a=b`, `a==b`, `a!=b`, `a`, `!a`,
 * `a in (x,y)`, `a notin (x,y)`, joined by commas (all must hold).
 */
export function parseLabelSelector(text: string): LabelSelector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: Expression[] = [];
  if (text.trim() === '') return {};
  for (const req of requirements(text)) {
    const doesNotExist = /^!\s*([^\s=!(),]+)$/.exec(req);
    const equality = /^([^\s=!(),]+)\s*(==|!=|=)\s*([^\s=!(),]*)$/.exec(req);
    const set = /^([^\s=!(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(req);
    const exists = /^([^\s=!(),]+)$/.exec(req);
    if (doesNotExist) {
      matchExpressions.push({ key: checkKey(doesNotExist[1]!, text), operator: 'DoesNotExist' });
    } else if (equality) {
      const key = checkKey(equality[1]!, text);
      const value = checkValue(equality[3]!, text);
      if (equality[2] === '!=') matchExpressions.push({ key, operator: 'NotIn', values: [value] });
      else if (key in matchLabels && matchLabels[key] !== value) matchExpressions.push({ key, operator: 'In', values: [value] });
      else matchLabels[key] = value;
    } else if (set) {
      const values = set[3]!.split(',').map((v) => checkValue(v.trim(), text));
      matchExpressions.push({ key: checkKey(set[1]!, text), operator: set[2] === 'in' ? 'In' : 'NotIn', values });
    } else if (exists) {
      matchExpressions.push({ key: checkKey(exists[1]!, text), operator: 'Exists' });
    } else {
      throw badRequest(`unable to parse label selector "${text}": unsupported requirement "${req}"`);
    }
  }
  return {
    ...(Object.keys(matchLabels).length ? { matchLabels } : {}),
    ...(matchExpressions.length ? { matchExpressions } : {}),
  };
}

const FIELDS: Record<string, (o: ApiObject) => string | undefined> = {
  'metadata.name': (o) => o.metadata.name,
  'metadata.namespace': (o) => o.metadata.namespace,
};

/** Parses a `fieldSelector=` query; like custom resources in Kubernetes, only metadata.name and metadata.namespace. */
export function parseFieldSelector(text: string): (o: ApiObject) => boolean {
  const tests: ((o: ApiObject) => boolean)[] = [];
  for (const req of text
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean)) {
    const m = /^([^=!\s]+)\s*(==|!=|=)\s*(.*)$/.exec(req);
    const get = m ? FIELDS[m[1]!] : undefined;
    if (!m || !get) throw badRequest(`unable to parse field selector "${text}": supported fields are ${Object.keys(FIELDS).join(', ')} with =, == or !=`);
    const [, , op, value] = m;
    tests.push(op === '!=' ? (o) => get(o) !== value : (o) => get(o) === value);
  }
  return (o) => tests.every((t) => t(o));
}
