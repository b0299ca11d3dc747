/**
 * A change feed as the API shows it: a ClusterResourceSet's manifests put back, as the API's store does on every
 * read (the feeds keep objects as stored, with payload references). The same rule as the embedded host's.
 */
import type { ApiObject } from '../../api/kind.js';
import type { Change, ChangeFeed } from '../../ports.js';
import type { PayloadOffloadingStore } from './offloading-store.js';

export function restoredChanges(feed: ChangeFeed, apiStore: Pick<PayloadOffloadingStore, 'restore'>): ChangeFeed {
  // A payload already removed (a deleted set's) leaves the change as stored rather than failing the watch.
  const restore = (o: ApiObject) => apiStore.restore(o).catch(() => o);
  const restored = async (c: Change): Promise<Change> => ({
    ...c,
    object: await restore(c.object),
    ...(c.previous ? { previous: await restore(c.previous) } : {}),
  });
  return {
    ...(feed.lateArrivalWindow !== undefined ? { lateArrivalWindow: feed.lateArrivalWindow } : {}),
    currentVersion: () => feed.currentVersion(),
    waitForChange: (after, signal) => feed.waitForChange(after, signal),
    changesSince: async (kind, namespace, after) => {
      const changes = await feed.changesSince(kind, namespace, after);
      return changes === 'expired' ? changes : Promise.all(changes.map(restored));
    },
  };
}
