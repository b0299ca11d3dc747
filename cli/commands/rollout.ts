/** `rollout status|history|undo|pause|resume machinedeployment NAME`, as kubectl's for Deployments. */
import { stringify } from 'yaml';
import type { ApiObject, KindDef } from '../../functions/api/kind.js';
import { ownedMachineSets, revisionOf } from '../../functions/api/http/rollback.js';
import type { MachineDeployment } from '../../functions/api/machine-deployment.js';
import type { MachineSet } from '../../functions/api/machine-set.js';
import { kindByName } from '../../functions/api/kinds.js';
import { MERGE_PATCH, resourcePath } from '../client.js';
import type { Context } from '../context.js';
import { OperationError, UsageError } from '../errors.js';
import { NONE, qualifiedName } from '../format/columns.js';
import { elapsed, formatDuration, parseDuration } from '../format/duration.js';
import { progressLine, rolloutProgress } from '../format/progress.js';
import { renderTable } from '../format/table.js';
import { resolveKind } from '../kinds.js';

interface Target {
  def: KindDef;
  namespace: string;
  name: string;
}

function target(kind: string, name: string, namespace: string | undefined, kinds: readonly string[]): Target {
  return { def: resolveKind(kind, kinds), namespace: namespace ?? 'default', name };
}

export interface StatusOptions {
  namespace?: string;
  timeout?: string;
  interval?: string;
}

/** Waits for the rollout to finish; a bar with the elapsed time on a terminal, kubectl's lines otherwise. */
export async function rolloutStatus(ctx: Context, kind: string, name: string, options: StatusOptions): Promise<void> {
  const t = target(kind, name, options.namespace, ['MachineDeployment', 'ControlPlane']);
  const timeout = parseDuration(options.timeout ?? '0', '--timeout');
  const interval = parseDuration(options.interval ?? '1s', '--interval');
  const tty = ctx.io.stdout.isTTY;
  const start = ctx.io.now();
  const what = `${t.def.singular} "${name}"`;
  let last = '';
  let drawn = false;
  let stop = false;
  const off = ctx.io.onInterrupt(() => (stop = true));
  const clear = () => {
    if (drawn) ctx.io.stdout.write('\r\u001b[2K');
    drawn = false;
  };
  try {
    for (;;) {
      const obj = (await ctx.client.get<ApiObject>(resourcePath(t.def, t.namespace, name))).body;
      const p = rolloutProgress(obj, what);
      const spent = ctx.io.now() - start;
      if (p.done) {
        clear();
        ctx.out(tty ? `${ctx.colors.green('✔')} ${p.message} (${elapsed(spent)})` : p.message);
        return;
      }
      if (tty) {
        ctx.io.stdout.write(`\r\u001b[2K${progressLine(p, spent, ctx.colors, ctx.io.stdout.columns)}`);
        drawn = true;
      } else if (p.message !== last) ctx.out(p.message);
      last = p.message;
      if (stop) throw new OperationError(`interrupted while waiting for ${what} to roll out: ${p.detail}`);
      if (timeout > 0 && spent + interval > timeout)
        throw new OperationError(`timed out after ${formatDuration(timeout)} waiting for ${what} to roll out: ${p.detail}`);
      await ctx.io.sleep(interval);
    }
  } finally {
    clear();
    off();
  }
}

/** The MachineSets of a deployment, by revision, oldest first. */
async function revisions(ctx: Context, t: Target): Promise<{ md: MachineDeployment; sets: { revision: number; ms: MachineSet }[] }> {
  const md = (await ctx.client.get<MachineDeployment>(resourcePath(t.def, t.namespace, t.name))).body;
  const all = await ctx.client.list<MachineSet>(resourcePath(kindByName('MachineSet')!, t.namespace));
  const sets = ownedMachineSets(md, all)
    .map((ms) => ({ revision: revisionOf(ms) ?? 0, ms }))
    .filter((s) => s.revision > 0)
    .sort((a, b) => a.revision - b.revision);
  return { md, sets };
}

/** What changed from one revision's template to the next, in a few words. */
export function changeBetween(prev: MachineSet | undefined, next: MachineSet): string {
  if (!prev) return 'initial';
  const a = prev.spec.template.spec;
  const b = next.spec.template.spec;
  const parts: string[] = [];
  if (a.version !== b.version) parts.push(`version ${a.version} -> ${b.version}`);
  if (a.machineClassRef.name !== b.machineClassRef.name) parts.push(`machineClass ${a.machineClassRef.name} -> ${b.machineClassRef.name}`);
  if ((a.failureDomain ?? '') !== (b.failureDomain ?? '')) parts.push(`failureDomain ${a.failureDomain ?? NONE} -> ${b.failureDomain ?? NONE}`);
  return parts.length > 0 ? parts.join(', ') : 'template';
}

export async function rolloutHistory(ctx: Context, kind: string, name: string, options: { namespace?: string; revision?: string }): Promise<void> {
  const t = target(kind, name, options.namespace, ['MachineDeployment']);
  const { sets } = await revisions(ctx, t);
  if (options.revision !== undefined) {
    const n = Number(options.revision);
    const found = sets.find((s) => s.revision === n);
    if (!found)
      throw new OperationError(
        `unable to find revision ${options.revision} of ${qualifiedName(t.def, name)} (known: ${sets.map((s) => s.revision).join(', ') || 'none'})`,
      );
    ctx.out(`${qualifiedName(t.def, name)} with revision #${n}`);
    ctx.io.stdout.write(stringify({ template: found.ms.spec.template }));
    return;
  }
  ctx.out(qualifiedName(t.def, name));
  if (sets.length === 0) {
    ctx.out('No rollout history found.');
    return;
  }
  const rows = sets.map((s, i) => {
    const spec = s.ms.spec.template.spec;
    return [String(s.revision), s.ms.metadata.name, spec.version, spec.machineClassRef.name, String(s.ms.spec.replicas), changeBetween(sets[i - 1]?.ms, s.ms)];
  });
  ctx.io.stdout.write(renderTable(['REVISION', 'MACHINESET', 'VERSION', 'MACHINECLASS', 'REPLICAS', 'CHANGE'], rows));
}

export async function rolloutUndo(ctx: Context, kind: string, name: string, options: { namespace?: string; toRevision?: string }): Promise<void> {
  const t = target(kind, name, options.namespace, ['MachineDeployment']);
  const toRevision = options.toRevision === undefined ? 0 : Number(options.toRevision);
  if (!Number.isInteger(toRevision) || toRevision < 0) throw new UsageError(`--to-revision must be an integer >= 0, not "${options.toRevision}"`);
  const path = resourcePath(t.def, t.namespace, name);
  const before = (await ctx.client.get<ApiObject>(path)).body;
  const after = (await ctx.client.request<ApiObject>('POST', `${path}/rollback`, { body: { toRevision } })).body;
  ctx.out(
    after.metadata.generation === before.metadata.generation
      ? `${qualifiedName(t.def, name)} skipped rollback (current template already matches ${toRevision === 0 ? 'the previous revision' : `revision ${toRevision}`})`
      : `${qualifiedName(t.def, name)} rolled back`,
  );
}

export async function rolloutPause(ctx: Context, kind: string, name: string, paused: boolean, options: { namespace?: string }): Promise<void> {
  const t = target(kind, name, options.namespace, ['MachineDeployment']);
  const path = resourcePath(t.def, t.namespace, name);
  const word = paused ? 'paused' : 'resumed';
  const current = (await ctx.client.get<MachineDeployment>(path)).body;
  // Idempotent, so that scripts can pause or resume without checking first.
  if ((current.spec.paused ?? false) === paused) {
    ctx.out(`${qualifiedName(t.def, name)} already ${paused ? 'paused' : 'running (not paused)'}`);
    return;
  }
  await ctx.client.request('PATCH', path, { body: { spec: { paused } }, contentType: MERGE_PATCH });
  ctx.out(`${qualifiedName(t.def, name)} ${word}`);
}
