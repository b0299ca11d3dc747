/**
 * `rollout status` progress: kubectl's messages (DeploymentStatusViewer), and on a terminal a bar with the
 * elapsed time redrawn in place.
 */
import type { ApiObject } from '../../functions/api/kind.js';
import type { Colors } from '../io.js';
import { elapsed } from './duration.js';

export interface RolloutProgress {
  done: boolean;
  /** kubectl's wording: `Waiting for ... rollout to finish: 1 out of 3 new replicas have been updated...`. */
  message: string;
  /** The reason alone, for a timeout's error line: `1 out of 3 new replicas have been updated`. */
  detail: string;
  desired: number;
  updated: number;
  available: number;
  replicas: number;
}

interface ScalableStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
}

/**
 * Done when the controller has seen the latest spec (observedGeneration >= generation) and every replica is
 * updated and available: updatedReplicas == availableReplicas == replicas == spec.replicas. A control plane
 * has no availableReplicas; its readyReplicas count instead.
 */
export function rolloutProgress(obj: ApiObject, what: string): RolloutProgress {
  const spec = (obj.spec ?? {}) as { replicas?: number; paused?: boolean };
  const status = (obj.status ?? {}) as ScalableStatus;
  const desired = spec.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const available = (obj.kind === 'ControlPlane' ? status.readyReplicas : status.availableReplicas) ?? 0;
  const replicas = status.replicas ?? 0;
  const base = { desired, updated, available, replicas };
  const paused = spec.paused ? ' (paused: resume it with `clusterless rollout resume`)' : '';
  const waiting = (detail: string) => ({ ...base, done: false, detail, message: `Waiting for ${what} rollout to finish: ${detail}...${paused}` });
  if ((status.observedGeneration ?? 0) < (obj.metadata.generation ?? 0))
    return { ...base, done: false, detail: 'the latest spec is not yet observed', message: `Waiting for ${what} spec update to be observed...${paused}` };
  if (updated < desired) return waiting(`${updated} out of ${desired} new replicas have been updated`);
  if (replicas > updated) return waiting(`${replicas - updated} old replicas are pending termination`);
  if (available < updated) return waiting(`${available} of ${updated} updated replicas are available`);
  if (replicas < desired || updated !== desired || available !== desired) return waiting(`${available} of ${desired} replicas are available`);
  return { ...base, done: true, detail: 'done', message: `${what} successfully rolled out` };
}

const BAR_WIDTH = 24;

/** One line for a terminal: `[██████░░░░] 2/3 updated, 1/3 available  1m05s  <message>`, cut to the width. */
export function progressLine(p: RolloutProgress, elapsedMs: number, colors: Colors, columns?: number): string {
  // A pseudo-terminal may report 0 columns; take a common width then.
  const width = columns && columns > 0 ? columns : 100;
  const fraction = p.desired === 0 ? 1 : Math.min(1, Math.min(p.updated, p.available) / p.desired);
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `[${colors.green('█'.repeat(filled))}${colors.dim('░'.repeat(BAR_WIDTH - filled))}]`;
  const counts = `${p.updated}/${p.desired} updated, ${p.available}/${p.desired} available`;
  const time = elapsed(elapsedMs);
  const line = `${bar} ${counts}  ${colors.bold(time)}`;
  const room = width - (BAR_WIDTH + 3 + counts.length + 2 + time.length + 2) - 1;
  if (room < 10) return line;
  return `${line}  ${p.detail.length > room ? `${p.detail.slice(0, room - 1)}…` : p.detail}`;
}
