/**
 * The API answers lists in pages (500 items by default, `metadata.continue` while more remain); the commands
 * that read lists follow the pages, so they still show everything.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Labels } from '../../../functions/api/common.js';
import { fakeWorld, type FakeWorld } from './harness.js';
import { deploymentLabels, machine } from './fixtures.js';

const COUNT = 1201;
const name = (i: number) => `demo-md-0-${String(i).padStart(4, '0')}`;

let w: FakeWorld;
beforeEach(async () => {
  w = fakeWorld();
  // Straight into the store: the pages, not 1,201 creates, are under test.
  for (let i = 0; i < COUNT; i++) await w.store.create(machine(name(i), { labels: deploymentLabels('demo', 'demo-md-0') }));
});

describe('lists of more than one page', () => {
  it('get prints every object, following continue tokens page after page', async () => {
    const r = await w.run(['get', 'machines', '-o', 'name']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(Array.from({ length: COUNT }, (_, i) => `machine.clusterless.dev/${name(i)}`));
    const lists = w.requests.filter((q) => q.method === 'GET');
    expect(lists).toHaveLength(3);
    expect(lists[0]!.query['continue']).toBeUndefined();
    expect(lists.slice(1).every((q) => typeof q.query['continue'] === 'string')).toBe(true);
  });

  it('get keeps the label selector on every page', async () => {
    const r = await w.run(['get', 'machines', '-l', `${Labels.clusterName}=demo`, '-o', 'name']);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(COUNT);
    expect(w.requests.every((q) => q.query['labelSelector'] === `${Labels.clusterName}=demo`)).toBe(true);
  });

  it('describe cluster shows every machine of the cluster', async () => {
    await w.store.create({ apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'demo', namespace: 'default' }, spec: {} });
    const r = await w.run(['describe', 'cluster', 'demo']);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/Machine\/demo-md-0-\d{4}/g)).toHaveLength(COUNT);
  });
});
