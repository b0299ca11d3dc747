import type { ApiObject, KindDef } from '../functions/api/kind.js';
import { KINDS, kindByAlias } from '../functions/api/kinds.js';
import { UsageError } from './errors.js';

/** The kind a user typed (plural, singular, kind or short name, any case), or a usage error listing them. */
export function resolveKind(name: string, allowed?: readonly string[]): KindDef<ApiObject> {
  const def = kindByAlias(name);
  if (!def) throw new UsageError(`unknown resource type "${name}" (one of: ${KINDS.map((k) => k.plural).join(', ')})`);
  if (allowed && !allowed.includes(def.kind))
    throw new UsageError(`${def.plural} do not support this command (only ${allowed.map((k) => KINDS.find((d) => d.kind === k)!.plural).join(', ')})`);
  return def;
}

/** `get machines/m1` as kubectl takes it: a KIND/NAME pair in one word. */
export function splitKindName(kind: string, name: string | undefined): { kind: string; name: string | undefined } {
  const slash = kind.indexOf('/');
  if (slash < 0) return { kind, name };
  if (name !== undefined) throw new UsageError(`there is no need to give a name after ${kind}`);
  return { kind: kind.slice(0, slash), name: kind.slice(slash + 1) || undefined };
}
