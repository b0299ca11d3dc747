/**
 * The routes behind `clusterless import` (functions/api/http/cluster-import.ts) on the router and a memory store,
 * with hooks that record what they were asked: refusals are Statuses naming the field, and change nothing.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { AdoptionRefusedError, type ImportedCertificates } from '../../../functions/api/capi/import-plan.js';
import type { ClusterImportHooks } from '../../../functions/api/http/cluster-import.js';
import { Labels } from '../../../functions/api/common.js';
import { api, cluster, machineClass, ns, type Api } from './fixtures.js';

const PEM = (what: string) => `-----BEGIN ${what}-----\nAAAA\n-----END ${what}-----\n`;
const CERTS: ImportedCertificates = {
  ca: { cert: PEM('CERTIFICATE'), key: PEM('PRIVATE KEY') },
  etcdCa: { cert: PEM('CERTIFICATE'), key: PEM('PRIVATE KEY') },
  frontProxyCa: { cert: PEM('CERTIFICATE'), key: PEM('PRIVATE KEY') },
  serviceAccount: { key: PEM('PRIVATE KEY'), pub: PEM('PUBLIC KEY') },
};

let a: Api;
let adopted: Parameters<ClusterImportHooks['adoptInstance']>[0][];
let stored: ImportedCertificates[];
let tagged: Set<string>;

function hooks(): ClusterImportHooks {
  return {
    async importCertificates(_target, certificates) {
      if (stored.length > 0) return false;
      stored.push(certificates);
      return true;
    },
    isAdopted: async (t) => tagged.has(`${t.machineUid}/${t.instanceId}`),
    async adoptInstance(t) {
      if (t.instanceId === 'i-0000000000000dead') throw new AdoptionRefusedError('no owned tag', 'instanceId');
      adopted.push(t);
      tagged.add(`${t.machineUid}/${t.instanceId}`);
    },
  };
}

async function machine(name: string, instanceId: string, controlPlane = false) {
  return a.create({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name, namespace: 'default', ...(controlPlane ? { labels: { [Labels.controlPlane]: '' } } : {}) },
    spec: { clusterName: 'c1', version: 'v1.31.2', machineClassRef: { name: 'small' }, providerID: `aws:///us-east-1a/${instanceId}` },
  });
}

beforeEach(async () => {
  a = api();
  a.deps.clusterImport = hooks();
  adopted = [];
  stored = [];
  tagged = new Set();
  await a.create({ ...cluster(), spec: { paused: true } });
  await a.create(machineClass());
});

describe('POST .../machines/{name}/adopt', () => {
  it('adopts the instance the Machine names, with its uid and role, while the Cluster is paused', async () => {
    const m = await machine('cp-0', 'i-0123456789abcdef0', true);

    const r = await a.call('POST', ns('default', 'machines', 'cp-0', 'adopt'), { instanceId: 'i-0123456789abcdef0', capaClusterName: 'c1' });

    expect(r.status, r.body).toBe(200);
    expect(r.json.adopted).toBe('Tagged');
    expect(adopted).toEqual([
      {
        namespace: 'default',
        clusterName: 'c1',
        machineName: 'cp-0',
        machineUid: m.metadata.uid,
        role: 'control-plane',
        instanceId: 'i-0123456789abcdef0',
        capaClusterName: 'c1',
      },
    ]);
  });

  it('answers AlreadyAdopted for an instance that carries the machine tags, even once the Cluster is unpaused', async () => {
    const m = await machine('w-0', 'i-0123456789abcdef0');
    tagged.add(`${m.metadata.uid}/i-0123456789abcdef0`);
    await a.call('PATCH', ns('default', 'clusters', 'c1'), { spec: { paused: false } });

    const r = await a.call('POST', ns('default', 'machines', 'w-0', 'adopt'), { instanceId: 'i-0123456789abcdef0', capaClusterName: 'c1' });

    expect(r.status, r.body).toBe(200);
    expect(r.json.adopted).toBe('AlreadyAdopted');
    expect(adopted).toEqual([]);
  });

  it('refuses while the Cluster is not paused (409), adopting nothing', async () => {
    await machine('w-0', 'i-0123456789abcdef0');
    await a.call('PATCH', ns('default', 'clusters', 'c1'), { spec: { paused: false } });

    const r = await a.call('POST', ns('default', 'machines', 'w-0', 'adopt'), { instanceId: 'i-0123456789abcdef0', capaClusterName: 'c1' });

    expect(r.status).toBe(409);
    expect(adopted).toEqual([]);
  });

  it.each([
    { name: 'no instanceId', body: { capaClusterName: 'c1' }, field: 'instanceId' },
    { name: 'no capaClusterName', body: { instanceId: 'i-0123456789abcdef0' }, field: 'capaClusterName' },
    { name: "another cluster's Cluster API name", body: { instanceId: 'i-0123456789abcdef0', capaClusterName: 'other' }, field: 'capaClusterName' },
    { name: 'an instance the Machine does not name', body: { instanceId: 'i-0fffffffffffffff0', capaClusterName: 'c1' }, field: 'instanceId' },
    { name: 'an instance the hook refuses (no owned tag)', body: { instanceId: 'i-0000000000000dead', capaClusterName: 'c1' }, field: 'instanceId' },
  ])('refuses $name with a 422 naming $field, changing nothing', async ({ body, field }) => {
    await machine('w-0', body.instanceId === 'i-0000000000000dead' ? 'i-0000000000000dead' : 'i-0123456789abcdef0');
    const before = await a.snapshot();

    const r = await a.call('POST', ns('default', 'machines', 'w-0', 'adopt'), body);

    expect(r.status).toBe(422);
    expect(r.json.details.causes.map((c: { field: string }) => c.field)).toContain(field);
    expect(adopted).toEqual([]);
    expect(await a.snapshot()).toEqual(before);
  });

  it('answers 404 on a host that cannot import (no hooks)', async () => {
    delete a.deps.clusterImport;
    await machine('w-0', 'i-0123456789abcdef0');

    const r = await a.call('POST', ns('default', 'machines', 'w-0', 'adopt'), { instanceId: 'i-0123456789abcdef0', capaClusterName: 'c1' });

    expect(r.status).toBe(404);
  });
});

describe('POST .../clusters/{name}/certificates', () => {
  it('stores the certificates once: 201, then 200 for the same request', async () => {
    const first = await a.call('POST', ns('default', 'clusters', 'c1', 'certificates'), CERTS);
    const second = await a.call('POST', ns('default', 'clusters', 'c1', 'certificates'), CERTS);

    expect([first.status, second.status]).toEqual([201, 200]);
    expect(stored).toEqual([CERTS]);
  });

  it('refuses a part that is no PEM block with a 422 naming it, storing nothing', async () => {
    const r = await a.call('POST', ns('default', 'clusters', 'c1', 'certificates'), { ...CERTS, etcdCa: { cert: 'not pem', key: CERTS.etcdCa.key } });

    expect(r.status).toBe(422);
    expect(r.json.details.causes.map((c: { field: string }) => c.field)).toEqual(['etcdCa.cert']);
    expect(stored).toEqual([]);
  });

  it('answers 404 for a cluster that does not exist', async () => {
    const r = await a.call('POST', ns('default', 'clusters', 'nope', 'certificates'), CERTS);

    expect(r.status).toBe(404);
    expect(stored).toEqual([]);
  });
});
