/**
 * Every write the API accepted (2xx), per object: the spec it left and whether it asked for deletion. At a
 * checkpoint the store must show, for each object, the spec of the last accepted write (by resourceVersion,
 * so that two patches that raced are ordered as the store ordered them), and nothing of a deleted cluster.
 * "Every accepted write is present": a write the API acknowledged is never lost, by any fault.
 */
import { jsonEqual, type ApiObject } from '../functions/api/kind.js';
import type { Store } from '../functions/ports.js';
import type { Violation } from './watch.js';

interface Entry {
  kind: string;
  namespace: string;
  name: string;
  clusterName?: string;
  spec?: unknown;
  resourceVersion?: bigint;
  /** DELETE accepted (for the object, or for its cluster). */
  gone: boolean;
  /** How many accepted writes this object had. */
  writes: number;
}

const rvOf = (o: ApiObject): bigint | undefined => {
  const rv = o.metadata.resourceVersion;
  return rv !== undefined && /^\d+$/.test(rv) ? BigInt(rv) : undefined;
};

export class WriteLedger {
  private readonly entries = new Map<string, Entry>();
  accepted = 0;

  private entry(kind: string, namespace: string, name: string): Entry {
    const k = `${kind}/${namespace}/${name}`;
    let e = this.entries.get(k);
    if (!e) {
      e = { kind, namespace, name, gone: false, writes: 0 };
      this.entries.set(k, e);
    }
    return e;
  }

  /** A create, replace, patch or rollback answered 2xx with the object as it now is. */
  accept(obj: ApiObject, clusterName?: string): void {
    this.accepted++;
    const e = this.entry(obj.kind, obj.metadata.namespace, obj.metadata.name);
    e.writes++;
    if (clusterName) e.clusterName = clusterName;
    const rv = rvOf(obj);
    // A newer object of the same name (created again after a deletion) starts over.
    if (e.gone && !obj.metadata.deletionTimestamp) e.gone = false;
    if (e.resourceVersion !== undefined && rv !== undefined && rv < e.resourceVersion) return;
    e.spec = obj.spec;
    if (rv !== undefined) e.resourceVersion = rv;
  }

  /** A DELETE answered 2xx: the object, and for a Cluster everything of the cluster, must go. */
  acceptDelete(kind: string, namespace: string, name: string): void {
    this.accepted++;
    const e = this.entry(kind, namespace, name);
    e.writes++;
    e.gone = true;
    if (kind === 'Cluster') for (const x of this.entries.values()) if (x.namespace === namespace && x.clusterName === name) x.gone = true;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Compares the store with the ledger. The whole spec is compared: nothing but the API writes a spec of the
   * kinds the soak declares (the control plane writes status, annotations and the children it owns).
   */
  async check(store: Store): Promise<Violation[]> {
    const out: Violation[] = [];
    for (const e of this.entries.values()) {
      const stored = await store.get(e.kind as never, e.namespace, e.name);
      if (e.gone) {
        if (stored && !stored.metadata.deletionTimestamp)
          out.push({
            invariant: 'accepted-write-present',
            message: `${e.kind} ${e.namespace}/${e.name}: an accepted DELETE is not in effect`,
            detail: { kind: e.kind, name: e.name },
          });
        continue;
      }
      if (!stored) {
        out.push({
          invariant: 'accepted-write-present',
          message: `${e.kind} ${e.namespace}/${e.name} is missing although it was never deleted`,
          detail: { kind: e.kind, name: e.name },
        });
        continue;
      }
      if (!jsonEqual(stored.spec, e.spec))
        out.push({
          invariant: 'accepted-write-present',
          message: `${e.kind} ${e.namespace}/${e.name}: the stored spec is not the one of the last accepted write`,
          detail: { kind: e.kind, name: e.name, expected: e.spec, stored: stored.spec },
        });
    }
    return out;
  }
}
