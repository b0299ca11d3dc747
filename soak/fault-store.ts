/**
 * A Store wrapper for the chaos soak: it reports every successful write (with who made it) to a watcher, and
 * injects the store faults a real DynamoDB produces, which no adapter can be asked to produce on demand:
 * - `throttle-before`: the write is refused for load (StoreUnavailableError) and nothing is written;
 * - `throttle-after`: the write lands but the caller sees StoreUnavailableError (a timeout after the write),
 *   the nasty case: the effect happened, the caller believes it did not;
 * - `lost-race`: the conditional write loses to a writer that got there first (ConflictError with the
 *   current object), as a concurrent Lambda or a user would cause.
 * Reads and leases pass through. Which writes get a fault is the `fault` hook's decision.
 */
import type { ApiObject } from '../functions/api/kind.js';
import type { KindName } from '../functions/api/kinds.js';
import { ForwardingStore } from '../functions/adapters/store/index.js';
import { ConflictError, StoreUnavailableError, type DeleteOptions, type DeleteResult, type Store } from '../functions/ports.js';
import { currentContext, type WriteContext } from './context.js';

export type StoreFault = 'throttle-before' | 'throttle-after' | 'lost-race';
export type WriteOp = 'create' | 'update' | 'updateStatus' | 'delete';

export interface WriteEvent {
  op: WriteOp;
  /** The object as written (for a delete: as it is now, with deletionTimestamp, or as it was when removed). */
  object: ApiObject;
  /** For a delete: the object left the store. */
  removed?: boolean;
  context: WriteContext | undefined;
}

export interface FaultStoreOptions {
  /** Told of every write that landed, in order, before the caller sees the result. */
  onWrite?: (event: WriteEvent) => void;
  /** Decides the fault of one write, if any; told of the write's context (API call or task). */
  fault?: (op: WriteOp, key: { kind: string; namespace: string; name: string }, context: WriteContext | undefined) => StoreFault | undefined;
  /** Told of every fault injected. */
  onFault?: (fault: StoreFault, op: WriteOp, key: { kind: string; namespace: string; name: string }) => void;
}

export class InjectedStoreError extends StoreUnavailableError {
  override name = 'StoreUnavailableError';
}

export class FaultStore extends ForwardingStore {
  constructor(
    inner: Store,
    private readonly options: FaultStoreOptions = {},
  ) {
    super(inner);
  }

  private async write<T>(
    op: WriteOp,
    key: { kind: string; namespace: string; name: string },
    run: () => Promise<T>,
    report: (result: T) => WriteEvent,
  ): Promise<T> {
    const context = currentContext();
    const fault = this.options.fault?.(op, key, context);
    if (fault) this.options.onFault?.(fault, op, key);
    if (fault === 'throttle-before') throw new InjectedStoreError(`injected: ${op} of ${key.kind} ${key.namespace}/${key.name} throttled`);
    if (fault === 'lost-race' && op !== 'create') {
      const current = await this.inner.get(key.kind as KindName, key.namespace, key.name);
      throw new ConflictError({ kind: key.kind as KindName, namespace: key.namespace, name: key.name }, current, `injected: ${op} lost a race`);
    }
    const result = await run();
    this.options.onWrite?.(report(result));
    if (fault === 'throttle-after') throw new InjectedStoreError(`injected: ${op} of ${key.kind} ${key.namespace}/${key.name} timed out after it was written`);
    return result;
  }

  override create<T extends ApiObject>(obj: T): Promise<T> {
    const key = { kind: obj.kind, namespace: obj.metadata.namespace || 'default', name: obj.metadata.name };
    return this.write(
      'create',
      key,
      () => this.inner.create(obj),
      (object) => ({ op: 'create', object, context: currentContext() }),
    );
  }

  override update<T extends ApiObject>(obj: T): Promise<T> {
    const key = { kind: obj.kind, namespace: obj.metadata.namespace || 'default', name: obj.metadata.name };
    return this.write(
      'update',
      key,
      () => this.inner.update(obj),
      (object) => ({ op: 'update', object, context: currentContext() }),
    );
  }

  override updateStatus<T extends ApiObject>(obj: T): Promise<T> {
    const key = { kind: obj.kind, namespace: obj.metadata.namespace || 'default', name: obj.metadata.name };
    return this.write(
      'updateStatus',
      key,
      () => this.inner.updateStatus(obj),
      (object) => ({ op: 'updateStatus', object, context: currentContext() }),
    );
  }

  override delete(kind: KindName, namespace: string, name: string, options?: DeleteOptions): Promise<DeleteResult> {
    return this.write(
      'delete',
      { kind, namespace, name },
      () => this.inner.delete(kind, namespace, name, options),
      (r) => ({ op: 'delete', object: r.object, removed: r.removed, context: currentContext() }),
    );
  }
}
