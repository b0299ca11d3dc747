/**
 * Follows every write the control plane makes (the runtime's onChange) and keeps, per cluster, which machines
 * are Ready and whether the Cluster is Ready, so that a scenario knows the moment a fleet converged without
 * listing thousands of objects.
 */
import type { ApiObject } from '../../functions/api/kind.js';
import type { Machine } from '../../functions/api/machine.js';
import type { Condition } from '../../functions/api/common.js';
import { isTrue, type ConditionType } from '../../functions/core/conditions.js';

interface ClusterState {
  readyMachines: Set<string>;
  ready: boolean;
  converged: boolean;
}

const conditionTrue = (obj: ApiObject, type: ConditionType) => isTrue((obj.status as { conditions?: Condition[] } | undefined)?.conditions, type);

export class FleetTracker {
  private readonly clusters = new Map<string, ClusterState>();
  private machinesPerCluster = Infinity;
  private waiters: { check: () => boolean; resolve: () => void }[] = [];
  private listeners: ((obj: ApiObject) => void)[] = [];
  private converged = 0;
  private ready = 0;
  /** Writes seen so far. */
  writes = 0;

  /** Each cluster counts as converged with this many Ready machines and a Ready Cluster. */
  expectMachines(perCluster: number): void {
    this.machinesPerCluster = perCluster;
  }

  seen(obj: ApiObject): void {
    this.writes++;
    let state: ClusterState | undefined;
    if (obj.kind === 'Machine') {
      const m = obj as Machine;
      state = this.state(`${m.metadata.namespace}/${m.spec.clusterName}`);
      const before = state.readyMachines.size;
      if (!m.metadata.deletionTimestamp && conditionTrue(m, 'Ready')) state.readyMachines.add(m.metadata.name);
      else state.readyMachines.delete(m.metadata.name);
      this.ready += state.readyMachines.size - before;
    } else if (obj.kind === 'Cluster') {
      state = this.state(`${obj.metadata.namespace}/${obj.metadata.name}`);
      state.ready = conditionTrue(obj, 'Ready');
    }
    if (state) {
      const converged = state.ready && state.readyMachines.size === this.machinesPerCluster;
      if (converged !== state.converged) this.converged += converged ? 1 : -1;
      state.converged = converged;
    }
    for (const l of this.listeners) l(obj);
    if (this.waiters.length)
      this.waiters = this.waiters.filter((w) => {
        if (!w.check()) return true;
        w.resolve();
        return false;
      });
  }

  /** Calls `listener` with every write from now on; returns the function that stops it. */
  onWrite(listener: (obj: ApiObject) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  private state(key: string): ClusterState {
    let s = this.clusters.get(key);
    if (!s) {
      s = { readyMachines: new Set(), ready: false, converged: false };
      this.clusters.set(key, s);
    }
    return s;
  }

  /** Ready machines, all clusters together. */
  readyMachines(): number {
    return this.ready;
  }

  /** Clusters that are Ready with every machine Ready. */
  convergedClusters(): number {
    return this.converged;
  }

  /** Resolves once `check` holds after some write (or at once when it holds now). */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ check, resolve }));
  }
}
