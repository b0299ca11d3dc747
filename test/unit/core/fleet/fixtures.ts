/** FleetUpgrades and Clusters as the fleet's pure functions read them. */
import type { Cluster } from '../../../../functions/api/cluster.js';
import { fleetUpgradeSchema, type FleetUpgrade } from '../../../../functions/api/fleet-upgrade.js';

export const NOW = new Date('2026-01-01T00:00:00Z');

export function fleetUpgrade(spec: Record<string, unknown>, status?: Record<string, unknown>): FleetUpgrade {
  return fleetUpgradeSchema.parse({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'FleetUpgrade',
    metadata: { name: 'fu', namespace: 'default', uid: 'fu-uid', generation: 1 },
    spec: { version: 'v1.32.0', ...spec },
    ...(status ? { status } : {}),
  });
}

export function cluster(name: string, options: { labels?: Record<string, string>; topology?: Record<string, unknown>; namespace?: string } = {}): Cluster {
  return {
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name, namespace: options.namespace ?? 'default', uid: `${name}-uid`, generation: 1, ...(options.labels ? { labels: options.labels } : {}) },
    spec: { ...(options.topology ? { topology: options.topology } : {}) },
  } as unknown as Cluster;
}
