import type { Clock } from '../../functions/ports.js';

/** A clock that moves only when told to: tests of expiry and timestamps use it instead of fake timers. */
export class FakeClock implements Clock {
  private ms: number;

  constructor(start: Date | string = '2026-01-01T00:00:00Z') {
    this.ms = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}
