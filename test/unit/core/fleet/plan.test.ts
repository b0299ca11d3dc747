import { describe, expect, it } from 'vitest';
import { freezePlan, selectClusters, splitWaves } from '../../../../functions/core/fleet/index.js';
import { NOW, cluster, fleetUpgrade } from './fixtures.js';
import { MAX_FLEET_UPGRADE_CLUSTERS, type FleetUpgrade } from '../../../../functions/api/fleet-upgrade.js';

describe('splitWaves', () => {
  it('canary 1 then 10/30/60 % of 200: percents of the whole rounded up, the last batch takes the rest', () => {
    expect(splitWaves(200, { canary: 1, batches: ['10%', '30%', '60%'] })).toEqual([
      { name: 'canary', size: 1 },
      { name: 'batch-1', size: 20 },
      { name: 'batch-2', size: 60 },
      { name: 'batch-3', size: 119 },
    ]);
  });

  it('rounds a percent up: 10% of 15 is 2', () => {
    expect(splitWaves(15, { canary: 0, batches: ['10%', '100%'] }).map((w) => w.size)).toEqual([2, 13]);
  });

  it('0 clusters make no wave at all', () => {
    expect(splitWaves(0, { canary: 1, batches: ['10%', '90%'] })).toEqual([]);
  });

  it('drops waves left empty and caps each at what is left; counts are taken as they are', () => {
    expect(splitWaves(3, { canary: 2, batches: [5, '50%', '10%'] })).toEqual([
      { name: 'canary', size: 2 },
      { name: 'batch-1', size: 1 },
    ]);
  });

  it('the last batch takes the rest even when the batches add up to less', () => {
    expect(splitWaves(10, { canary: 1, batches: [2, 2] }).map((w) => w.size)).toEqual([1, 2, 7]);
  });
});

describe('selectClusters', () => {
  const fleet = [
    cluster('b', { labels: { env: 'prod' }, topology: { class: 'standard', version: 'v1.31.2' } }),
    cluster('a', { labels: { env: 'prod' }, topology: { class: 'standard', version: 'v1.31.2' } }),
    cluster('c', { labels: { env: 'dev' }, topology: { class: 'standard', version: 'v1.31.2' } }),
    cluster('d', { labels: { env: 'prod' }, topology: { class: 'gpu', version: 'v1.31.2' } }),
    cluster('e', { labels: { env: 'prod' } }),
    cluster('f', { labels: { env: 'prod' }, topology: { class: 'standard' }, namespace: 'other' }),
  ];

  it('matches the selector and the class, in its namespace, by name', () => {
    const names = (fu: FleetUpgrade) => selectClusters(fu, fleet).map((s) => s.cluster.metadata.name);
    expect(names(fleetUpgrade({ clusterSelector: { matchLabels: { env: 'prod' } }, clusterClass: 'standard' }))).toEqual(['a', 'b']);
    expect(names(fleetUpgrade({ clusterClass: 'standard' }))).toEqual(['a', 'b', 'c']);
    expect(names(fleetUpgrade({ clusterSelector: { matchLabels: { env: 'prod' } } }))).toEqual(['a', 'b', 'd', 'e']);
  });

  it('leaves out clusters being deleted', () => {
    const deleting = { ...fleet[1]!, metadata: { ...fleet[1]!.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect(selectClusters(fleetUpgrade({ clusterClass: 'standard' }), [deleting, fleet[0]!]).map((s) => s.cluster.metadata.name)).toEqual(['b']);
  });
});

describe('freezePlan', () => {
  it('puts each cluster in its wave in name order, and records a selected cluster without topology as skipped', () => {
    const fu = fleetUpgrade({ clusterSelector: { matchLabels: { env: 'prod' } }, waves: { canary: 1, batches: ['50%', '50%'] } });
    const status = freezePlan(
      fu,
      [
        cluster('c', { labels: { env: 'prod' }, topology: { class: 's', version: 'v1.31.2' } }),
        cluster('a', { labels: { env: 'prod' }, topology: { class: 's', version: 'v1.31.1' } }),
        cluster('b', { labels: { env: 'prod' } }),
      ],
      NOW,
    );
    expect(status.phase).toBe('Progressing');
    expect(status.waves).toEqual([
      { name: 'canary', clusters: 1, phase: 'Pending' },
      { name: 'batch-1', clusters: 2, phase: 'Pending' },
    ]);
    expect(status.clusters!.map((c) => [c.name, c.wave, c.phase, c.reason, c.fromVersion])).toEqual([
      ['a', 0, 'Pending', undefined, 'v1.31.1'],
      ['b', 1, 'Skipped', 'NoTopology', undefined],
      ['c', 1, 'Pending', undefined, 'v1.31.2'],
    ]);
    expect(status.counts).toEqual({ total: 3, pending: 2, inFlight: 0, succeeded: 0, failed: 0, skipped: 1 });
    expect(status.startedAt).toBe('2026-01-01T00:00:00Z');
  });

  it('halts before touching anything when the selection holds more clusters than a status can', () => {
    const many = Array.from({ length: MAX_FLEET_UPGRADE_CLUSTERS + 1 }, (_, i) => cluster(`c${i}`, { topology: { class: 'standard', version: 'v1.31.2' } }));
    const status = freezePlan(fleetUpgrade({ clusterClass: 'standard' }), many, NOW);
    expect(status).toMatchObject({ phase: 'Halted', reason: 'TooManyClusters', clusters: [], waves: [] });
    expect(freezePlan(fleetUpgrade({ clusterClass: 'standard' }), many.slice(1), NOW).phase).toBe('Progressing');
  });

  it('freezes an empty plan when nothing matches', () => {
    const status = freezePlan(fleetUpgrade({ clusterClass: 'none' }), [cluster('a', { topology: { class: 's' } })], NOW);
    expect(status.waves).toEqual([]);
    expect(status.clusters).toEqual([]);
  });
});
