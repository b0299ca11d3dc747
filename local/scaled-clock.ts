/**
 * The embedded host's clock: wall time sped up by --time-scale, continuing across restarts. Every part of the
 * host (store timestamps, planners, the simulated cloud) reads this one clock, so timeouts, boot times and
 * ages stay consistent with each other whatever the scale.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Clock } from '../functions/ports.js';
import { PRIVATE_FILE_MODE } from './data-dir.js';

export interface ScaledClock extends Clock {
  readonly timeScale: number;
  /** Saves the current time so that a restarted host never goes back in time. */
  persist(): void;
}

export function scaledClock(options: { timeScale?: number; stateFile?: string; realNow?: () => number } = {}): ScaledClock {
  const timeScale = options.timeScale ?? 1;
  const realNow = options.realNow ?? Date.now;
  const startReal = realNow();
  let startScaled = startReal;
  if (options.stateFile && existsSync(options.stateFile)) {
    const saved = Number(JSON.parse(readFileSync(options.stateFile, 'utf8')).now);
    // A sped-up clock ran ahead of the wall clock before the restart: carry on from where it was.
    if (Number.isFinite(saved) && saved > startScaled) startScaled = saved;
  }
  const now = () => new Date(startScaled + (realNow() - startReal) * timeScale);
  return {
    timeScale,
    now,
    persist() {
      if (!options.stateFile) return;
      const tmp = `${options.stateFile}.tmp`;
      // Private like the rest of the data folder (local/data-dir.ts): a leftover of a crash (or a link) is
      // removed and the file made anew, so that neither its mode nor its target is inherited.
      rmSync(tmp, { force: true });
      writeFileSync(tmp, JSON.stringify({ now: now().getTime() }), { mode: PRIVATE_FILE_MODE, flag: 'wx' });
      renameSync(tmp, options.stateFile);
    },
  };
}
