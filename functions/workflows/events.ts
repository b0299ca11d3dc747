/**
 * The EventRecorder on the Store: one read and one conditional write per event (create, or an update of the event
 * of the same name: a series counted once more, or a stale one started over). A lost race is read again once; any
 * failure is logged and dropped (the port's promise: recording never fails the step that acts).
 */
import { EventKind, eventName, isExpired, nextEvent, type Event, type EventInput } from '../api/event.js';
import { AlreadyExistsError, ConflictError, NotFoundError, type Clock, type EventRecorder, type Store } from '../ports.js';
import type { Logger } from './deps.js';

export function storeEventRecorder(store: Store, clock: Clock, log: Logger): EventRecorder {
  return {
    async record(input: EventInput): Promise<void> {
      try {
        for (let attempt = 0; ; attempt++) {
          const now = clock.now();
          const existing = await store.get<Event>(EventKind.kind, input.regarding.namespace, eventName(input));
          const next = nextEvent(input, existing, now);
          try {
            if (existing) await store.update(next);
            else await store.create(next);
            return;
          } catch (err) {
            const lost = err instanceof ConflictError || err instanceof AlreadyExistsError || err instanceof NotFoundError;
            if (!lost || attempt >= 1) throw err;
          }
        }
      } catch (err) {
        log.warn('event not recorded', {
          reason: input.reason,
          regarding: `${input.regarding.kind}/${input.regarding.namespace}/${input.regarding.name}`,
          error: (err as Error).message,
        });
      }
    },
  };
}

/**
 * Removes expired events: the embedded host's stand-in for DynamoDB's TTL (dynalite has none). Returns how many
 * went. An event renewed meanwhile is left (the delete is guarded by the version read).
 */
export async function pruneExpiredEvents(store: Store, now: Date): Promise<number> {
  let removed = 0;
  for (const e of await store.list<Event>(EventKind.kind)) {
    if (!isExpired(e, now)) continue;
    try {
      await store.delete(
        EventKind.kind,
        e.metadata.namespace,
        e.metadata.name,
        e.metadata.resourceVersion ? { resourceVersion: e.metadata.resourceVersion } : {},
      );
      removed++;
    } catch (err) {
      if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
    }
  }
  return removed;
}
