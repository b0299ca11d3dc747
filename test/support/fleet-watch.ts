/**
 * Watches every write a control plane makes and keeps a shadow of its Machines, so that tests can check
 * invariants at every observed step of a rollout, not only at the end.
 */
import type { ApiObject } from '../../functions/api/kind.js';
import type { Machine } from '../../functions/api/machine.js';
import { MemoryStore } from '../../functions/adapters/memory/index.js';
import type { Clock } from '../../functions/ports.js';
import { TriggeringStore } from '../../local/runtime.js';

export type MachineCheck = (machines: Machine[]) => string | undefined;

export class FleetWatch {
  readonly machines = new Map<string, Machine>();
  readonly violations: string[] = [];
  private checks: MachineCheck[] = [];
  writes = 0;

  /** A store whose writes this watch sees, in order, as they succeed. */
  store(clock: Clock): TriggeringStore {
    return new TriggeringStore(new MemoryStore({ clock }), (_ns, _cluster, obj) => this.seen(obj));
  }

  private seen(obj: ApiObject): void {
    this.writes++;
    if (obj.kind !== 'Machine') return;
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    if (obj.metadata.deletionTimestamp && !(obj.metadata.finalizers ?? []).length) this.machines.delete(key);
    else this.machines.set(key, obj as Machine);
    for (const check of this.checks) {
      const v = check([...this.machines.values()]);
      if (v) this.violations.push(v);
    }
  }

  /** Checks run after every Machine write from now on. */
  watch(check: MachineCheck): () => void {
    this.checks.push(check);
    return () => {
      this.checks = this.checks.filter((c) => c !== check);
    };
  }
}

export const isDeleting = (m: Machine) => m.metadata.deletionTimestamp !== undefined;
export const isReady = (m: Machine) => !isDeleting(m) && (m.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
export const ofDeployment = (name: string) => (m: Machine) => m.metadata.labels?.['clusterless.dev/deployment-name'] === name;
