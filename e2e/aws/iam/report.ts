/**
 * What the gateway's records say to the person who must change a policy: why a call was refused and what to add
 * where, and which granted permissions no call used (least privilege, from what the run really did).
 */
import type { CallRecord, Principal } from '../account.js';

/**
 * A refused authorization as a message: the principal, the operation, the authorization's action, resource and
 * context, and the policies evaluated, each as "add <action> on <resource> to <policy>".
 */
export function denyMessage(record: CallRecord): string {
  const { request } = record;
  const context = Object.entries(request.context)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(', ')}]` : v}`)
    .join(', ');
  const how = record.decision === 'ExplicitlyDenied' ? 'explicitly denied' : 'not allowed by any policy';
  const identity = (record.evaluated ?? []).filter((p) => p !== 'key policy' && p !== 'resource policy');
  const resourcePolicies = (record.evaluated ?? []).filter((p) => p === 'key policy' || p === 'resource policy');
  const fixes = identity.map((p) => `add ${request.action} on ${request.resource} to ${p}`);
  for (const p of resourcePolicies) fixes.push(`add ${request.action} on ${request.resource} to the ${p} (or let it delegate to the account)`);
  if (fixes.length === 0) fixes.push(`${record.principal} has no policy: attach one with ${request.action} on ${request.resource}`);
  return [
    `${record.principal} called ${record.operation}: ${request.action} on ${request.resource} was ${how}`,
    `  context: ${context || '(none)'}`,
    `  policies evaluated: ${(record.evaluated ?? []).join(', ') || '(none)'}`,
    ...fixes.map((f) => `  ${f}`),
  ].join('\n');
}

/** `service:Action` patterns of a statement's Action, lowercased as IAM compares them. */
function actionsOf(action: string | string[] | undefined): string[] {
  return (Array.isArray(action) ? action : action === undefined ? [] : [action]).map((a) => a.toLowerCase());
}

function wildcardMatches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(action);
}

/**
 * For each principal, the actions its Allow statements grant that no Allowed authorization of it used: explicit
 * names as written, a wildcard action only expanded against the actions the records saw. `{principal}: {action}`, sorted.
 */
/** What Lambda and X-Ray do with a function's role outside its SDK calls (its logs, its traces): never seen here. */
const USED_OUTSIDE_THE_SDK = new Set(['logs:createlogstream', 'logs:putlogevents', 'xray:puttracesegments', 'xray:puttelemetryrecords']);

export function unusedPermissions(principals: Principal[], records: CallRecord[]): string[] {
  const seen = [...new Set(records.map((r) => r.request.action))];
  const out = new Set<string>();
  for (const principal of principals) {
    const used = new Set(records.filter((r) => r.principal === principal.name && r.decision === 'Allowed').map((r) => r.request.action.toLowerCase()));
    const granted = new Map<string, string>();
    for (const { policy } of principal.policies)
      for (const s of policy.Statement) {
        if (s.Effect !== 'Allow') continue;
        for (const a of actionsOf(s.Action)) {
          if (a.includes('*') || a.includes('?')) {
            for (const candidate of seen) if (wildcardMatches(a, candidate)) granted.set(candidate.toLowerCase(), candidate);
          } else {
            const spelled = (Array.isArray(s.Action) ? s.Action : [s.Action!]).find((x) => x.toLowerCase() === a)!;
            if (!granted.has(a)) granted.set(a, spelled);
          }
        }
      }
    for (const [lower, spelled] of granted) if (!used.has(lower) && !USED_OUTSIDE_THE_SDK.has(lower)) out.add(`${principal.name}: ${spelled}`);
  }
  return [...out].sort();
}
