import type { Clock } from '../../functions/ports.js';

/**
 * A clock that runs `timeScale` times faster than the wall clock until frozen, and moves by `advance` on top:
 * fleets are provisioned on a running clock, then a scenario steps through simulated time as fast as the
 * work allows.
 */
export class BenchClock implements Clock {
  private base: number;
  private realBase: number;
  private scale: number;

  constructor(timeScale: number, start = Date.now()) {
    this.base = start;
    this.realBase = Date.now();
    this.scale = timeScale;
  }

  now(): Date {
    return new Date(this.base + (Date.now() - this.realBase) * this.scale);
  }

  /** From now on the clock moves only by advance(). */
  freeze(): void {
    this.base = this.now().getTime();
    this.realBase = Date.now();
    this.scale = 0;
  }

  advance(seconds: number): void {
    this.base += seconds * 1000;
  }
}
