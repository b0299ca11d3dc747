/**
 * EventBridge event patterns, which are also the syntax of Lambda's FilterCriteria on an event source mapping: a
 * pattern is an object whose keys must all match (AND); a key holds either a nested pattern or an array of matchers,
 * any of which may match (OR). An event value that is an array matches when any of its elements matches.
 *
 * Rules from the AWS documentation, "Creating event patterns" and "Content filtering in Amazon EventBridge event
 * patterns" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html) and Lambda's
 * "Lambda event filtering" (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html):
 * - an exact value (string, number, boolean, null) matches an equal value; numbers compare as numbers, never with strings;
 * - `exists` matches only leaf values (a JSON object is not a leaf), `exists: false` a missing one;
 * - every other matcher (prefix, suffix, anything-but, numeric...) needs the field to be present;
 * - `$or` takes a list of patterns, any of which may match.
 */

export type EventPattern = { [key: string]: EventPattern | Matcher[] | EventPattern[] };
export type Matcher = string | number | boolean | null | { [operator: string]: unknown };

export class InvalidEventPatternError extends Error {
  override name = 'InvalidEventPatternError';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a pattern given as JSON text (FilterCriteria's `Pattern`, an EventPattern property that is a string). */
export function parsePattern(pattern: string | object): EventPattern {
  const parsed: unknown = typeof pattern === 'string' ? JSON.parse(pattern) : pattern;
  if (!isObject(parsed)) throw new InvalidEventPatternError(`an event pattern is a JSON object: ${JSON.stringify(pattern).slice(0, 200)}`);
  return parsed as EventPattern;
}

/** Whether an event (any JSON value: an EventBridge event, a DynamoDB stream record) matches a pattern. */
export function matchesPattern(pattern: EventPattern | string, event: unknown): boolean {
  return matchObject(typeof pattern === 'string' ? parsePattern(pattern) : pattern, event);
}

function matchObject(pattern: Record<string, unknown>, value: unknown): boolean {
  for (const [key, sub] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2) throw new InvalidEventPatternError('$or takes a list of at least two patterns');
      if (!sub.some((p) => isObject(p) && matchObject(p, value))) return false;
      continue;
    }
    const field = isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
    if (Array.isArray(sub)) {
      if (!matchField(sub as Matcher[], field)) return false;
    } else if (isObject(sub)) {
      if (!matchObject(sub, field)) return false;
    } else throw new InvalidEventPatternError(`the value of ${key} in a pattern is an object or an array: ${JSON.stringify(sub)}`);
  }
  return true;
}

/** The leaf values of a field: an array's elements, one scalar, or none (missing, or an object). */
function leaves(field: unknown): unknown[] | undefined {
  if (field === undefined) return undefined;
  if (Array.isArray(field)) return field.filter((v) => !isObject(v) && !Array.isArray(v));
  if (isObject(field)) return undefined;
  return [field];
}

function matchField(matchers: Matcher[], field: unknown): boolean {
  const values = leaves(field);
  for (const m of matchers) {
    if (isObject(m)) {
      if (matchOperator(m, values)) return true;
    } else if (values?.some((v) => equalValues(v, m))) return true;
  }
  return false;
}

function equalValues(value: unknown, expected: Matcher): boolean {
  if (typeof expected === 'number') return typeof value === 'number' && value === expected;
  return value === expected;
}

const KNOWN = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'numeric', 'cidr', 'anything-but']);

function matchOperator(matcher: Record<string, unknown>, values: unknown[] | undefined): boolean {
  const entries = Object.entries(matcher);
  if (entries.length === 0) throw new InvalidEventPatternError('an empty matcher {}');
  const [operator, arg] = entries[0]!;
  if (operator === 'exists') {
    if (typeof arg !== 'boolean') throw new InvalidEventPatternError('exists takes true or false');
    return arg ? values !== undefined && values.length > 0 : values === undefined;
  }
  if (!KNOWN.has(operator)) throw new InvalidEventPatternError(`unknown matcher ${JSON.stringify(matcher)}`);
  if (values === undefined || values.length === 0) return false;
  return values.some((v) => matchOne(operator, arg, v, matcher));
}

function matchOne(operator: string, arg: unknown, value: unknown, matcher: Record<string, unknown>): boolean {
  switch (operator) {
    case 'prefix':
      return stringTest(arg, value, (s, a, fold) => (fold ? s.toLowerCase().startsWith(a.toLowerCase()) : s.startsWith(a)));
    case 'suffix':
      return stringTest(arg, value, (s, a, fold) => (fold ? s.toLowerCase().endsWith(a.toLowerCase()) : s.endsWith(a)));
    case 'equals-ignore-case':
      return typeof value === 'string' && typeof arg === 'string' && value.toLowerCase() === arg.toLowerCase();
    case 'wildcard':
      return typeof value === 'string' && typeof arg === 'string' && wildcard(arg).test(value);
    case 'numeric':
      return numeric(arg, value);
    case 'cidr':
      throw new InvalidEventPatternError('cidr matching is not used by the control plane; the emulated account does not implement it');
    case 'anything-but':
      return anythingBut(arg, value);
    default:
      throw new InvalidEventPatternError(`unknown matcher ${JSON.stringify(matcher)}`);
  }
}

/** prefix/suffix take a string, or { 'equals-ignore-case': string }. */
function stringTest(arg: unknown, value: unknown, test: (s: string, a: string, fold: boolean) => boolean): boolean {
  if (typeof value !== 'string') return false;
  if (typeof arg === 'string') return test(value, arg, false);
  if (isObject(arg) && typeof arg['equals-ignore-case'] === 'string') return test(value, arg['equals-ignore-case'], true);
  throw new InvalidEventPatternError(`prefix and suffix take a string or {"equals-ignore-case": string}: ${JSON.stringify(arg)}`);
}

function wildcard(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 's');
}

const COMPARISONS: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '=': (a, b) => a === b,
  '>=': (a, b) => a >= b,
  '>': (a, b) => a > b,
};

/** `numeric: ['>', 0, '<=', 5]`: every comparison holds; only JSON numbers match. */
function numeric(arg: unknown, value: unknown): boolean {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0)
    throw new InvalidEventPatternError(`numeric takes operator and number pairs: ${JSON.stringify(arg)}`);
  if (typeof value !== 'number') return false;
  for (let i = 0; i < arg.length; i += 2) {
    const compare = COMPARISONS[String(arg[i])];
    const bound = arg[i + 1];
    if (!compare || typeof bound !== 'number') throw new InvalidEventPatternError(`numeric: ${JSON.stringify(arg)}`);
    if (!compare(value, bound)) return false;
  }
  return true;
}

/** anything-but: a value, a list of values, or one of prefix / suffix / equals-ignore-case / wildcard. */
function anythingBut(arg: unknown, value: unknown): boolean {
  if (Array.isArray(arg)) return !arg.some((a) => equalValues(value, a as Matcher));
  if (isObject(arg)) {
    const [operator, inner] = Object.entries(arg)[0] ?? [];
    if (operator === undefined) throw new InvalidEventPatternError('anything-but {}');
    if (operator === 'equals-ignore-case' && Array.isArray(inner))
      return typeof value === 'string' && !inner.some((a) => typeof a === 'string' && a.toLowerCase() === value.toLowerCase());
    if (operator === 'wildcard' && Array.isArray(inner)) return typeof value === 'string' && !inner.some((a) => wildcard(String(a)).test(value));
    return typeof value === 'string' && !matchOne(operator, inner, value, arg);
  }
  return !equalValues(value, arg as Matcher);
}
