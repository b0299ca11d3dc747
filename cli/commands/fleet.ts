/**
 * `fleet status|pause|resume|abort NAME`: a FleetUpgrade's progress (its waves, clusters done, in flight, failed,
 * skipped, a bar), and the three changes users make to one under way, each a merge patch of its spec, as
 * `rollout pause` is of a MachineDeployment's.
 */
import type { FleetItemPhase, FleetUpgrade } from '../../functions/api/fleet-upgrade.js';
import { kindByName } from '../../functions/api/kinds.js';
import { MERGE_PATCH, resourcePath } from '../client.js';
import type { Context } from '../context.js';
import { qualifiedName } from '../format/columns.js';
import { renderTable } from '../format/table.js';
import type { Colors } from '../io.js';

const KIND = kindByName('FleetUpgrade')!;
const BAR_WIDTH = 30;

export interface FleetOptions {
  namespace?: string;
}

const pathOf = (name: string, options: FleetOptions) => resourcePath(KIND, options.namespace ?? 'default', name);

/** `[████▒▒░░░░]`: finished (succeeded or skipped) in green, failed in red, in flight dim, pending empty. */
export function fleetProgressBar(counts: Record<'total' | 'succeeded' | 'skipped' | 'failed' | 'inFlight', number>, colors: Colors): string {
  const cells = (n: number) => (counts.total === 0 ? 0 : Math.round((n * BAR_WIDTH) / counts.total));
  const done = cells(counts.succeeded + counts.skipped);
  const failed = Math.min(BAR_WIDTH - done, cells(counts.failed));
  const flying = Math.min(BAR_WIDTH - done - failed, cells(counts.inFlight));
  const empty = counts.total === 0 ? 0 : BAR_WIDTH - done - failed - flying;
  const full = counts.total === 0 ? BAR_WIDTH : 0;
  return `[${colors.green('█'.repeat(done + full))}${colors.red('█'.repeat(failed))}${colors.dim('▒'.repeat(flying))}${'░'.repeat(empty)}]`;
}

/** The status of a FleetUpgrade as text: a headline, the bar with the counts, the waves, and the clusters not upgraded. */
export function formatFleetStatus(fu: FleetUpgrade, colors: Colors): string {
  const s = fu.status ?? {};
  const clusters = s.clusters ?? [];
  const counts = s.counts ?? { total: 0, pending: 0, inFlight: 0, succeeded: 0, failed: 0, skipped: 0 };
  const waves = s.waves ?? [];
  const current = s.currentWave !== undefined && waves[s.currentWave] ? `, wave ${s.currentWave + 1}/${waves.length} (${waves[s.currentWave]!.name})` : '';
  const phase = s.phase ?? 'Pending';
  const flags = [fu.spec.paused && phase !== 'Paused' ? 'paused' : '', fu.spec.abort && phase !== 'Aborted' ? 'aborting' : ''].filter(Boolean);
  const lines = [
    `${qualifiedName(KIND, fu.metadata.name)}: ${phase} to ${fu.spec.version}${fu.spec.class ? ` (class ${fu.spec.class})` : ''}${current}${flags.length ? ` [${flags.join(', ')}]` : ''}`,
  ];
  if (s.message) lines.push(`${s.reason ?? phase}: ${s.message}`);
  const done = counts.succeeded + counts.skipped;
  lines.push(
    `${fleetProgressBar(counts, colors)} ${done}/${counts.total} done: ${counts.succeeded} succeeded, ${counts.skipped} skipped, ${counts.inFlight} in flight, ${counts.failed} failed, ${counts.pending} pending`,
  );
  let out = `${lines.join('\n')}\n`;
  if (waves.length > 0) {
    const of = (wave: number, phase: FleetItemPhase) => clusters.filter((c) => c.wave === wave && c.phase === phase).length;
    const rows = waves.map((w, i) => [
      w.name,
      String(w.clusters),
      w.phase,
      String(of(i, 'Succeeded')),
      String(of(i, 'InFlight')),
      String(of(i, 'Failed')),
      String(of(i, 'Skipped')),
      w.bakeUntil ?? '',
    ]);
    out += `\n${renderTable(['WAVE', 'CLUSTERS', 'PHASE', 'SUCCEEDED', 'IN FLIGHT', 'FAILED', 'SKIPPED', 'BAKE UNTIL'], rows)}`;
  }
  const notable = clusters.filter((c) => c.phase === 'Failed' || c.phase === 'InFlight' || c.phase === 'Skipped');
  if (notable.length > 0) {
    const rows = notable.map((c) => [c.name, waves[c.wave]?.name ?? String(c.wave), c.phase, c.reason ?? '', (c.message ?? '').slice(0, 100)]);
    out += `\n${renderTable(['CLUSTER', 'WAVE', 'PHASE', 'REASON', 'MESSAGE'], rows)}`;
  }
  return out;
}

export async function fleetStatus(ctx: Context, name: string, options: FleetOptions): Promise<void> {
  const fu = (await ctx.client.get<FleetUpgrade>(pathOf(name, options))).body;
  ctx.io.stdout.write(formatFleetStatus(fu, ctx.colors));
}

/** Sets spec.paused; idempotent, so that scripts need not check first. */
export async function fleetPause(ctx: Context, name: string, paused: boolean, options: FleetOptions): Promise<void> {
  const path = pathOf(name, options);
  const fu = (await ctx.client.get<FleetUpgrade>(path)).body;
  if (fu.spec.paused === paused) {
    ctx.out(`${qualifiedName(KIND, name)} already ${paused ? 'paused' : 'running (not paused)'}`);
    return;
  }
  await ctx.client.request('PATCH', path, { body: { spec: { paused } }, contentType: MERGE_PATCH });
  ctx.out(`${qualifiedName(KIND, name)} ${paused ? 'paused' : 'resumed'}`);
}

/** Sets spec.abort, for good: upgraded clusters stay as they are, and no further cluster is touched. */
export async function fleetAbort(ctx: Context, name: string, options: FleetOptions): Promise<void> {
  const path = pathOf(name, options);
  const fu = (await ctx.client.get<FleetUpgrade>(path)).body;
  if (fu.spec.abort) {
    ctx.out(`${qualifiedName(KIND, name)} already aborted`);
    return;
  }
  await ctx.client.request('PATCH', path, { body: { spec: { abort: true } }, contentType: MERGE_PATCH });
  ctx.out(`${qualifiedName(KIND, name)} aborted: clusters in flight finish, no further cluster starts`);
}
