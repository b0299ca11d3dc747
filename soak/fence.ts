/**
 * A host that stops dies with its work: executions are aborted, but a task already running is a promise
 * nobody can cancel, and it would go on writing after "the crash". A fence cuts a stopped host off from the
 * world instead: every store, provider and node-reader call it makes from then on fails, so what a crashed
 * host left behind is exactly what it had written before it stopped.
 */

export class HostStoppedError extends Error {
  override name = 'HostStoppedError';
}

export class Fence {
  private down = false;
  constructor(readonly generation: number) {}

  get isDown(): boolean {
    return this.down;
  }

  /** From now on every call through this fence fails. */
  drop(): void {
    this.down = true;
  }

  /**
   * The object with every method guarded: a call after drop() rejects with HostStoppedError (and does
   * nothing). Methods must return promises (the ports' methods all do).
   */
  guard<T extends object>(target: T): T {
    return new Proxy(target, {
      get: (t, prop, receiver) => {
        const value = Reflect.get(t, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (this.down) return Promise.reject(new HostStoppedError(`host ${this.generation} is stopped`));
          return (value as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  }
}
