import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { fakeWorld } from './harness.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/capi');
const read = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const files = {
  'prod.yaml': read('cluster-v1beta1.yaml'),
  'prod-v1beta2.yaml': read('cluster-v1beta2.yaml'),
  'classy.yaml': read('clusterclass-v1beta1.yaml'),
  // The class's Clusters without their ClusterClass: refused.
  'classless.yaml': read('clusterclass-v1beta1.yaml')
    .split(/^---$/m)
    .filter((d) => !/^kind: ClusterClass$/m.test(d))
    .join('---'),
};
const names = (text: string) => parseAllDocuments(text).map((d) => (Array.isArray(d) ? '' : `${d.get('kind')}/${d.getIn(['metadata', 'name'])}`));

describe('clusterless convert', () => {
  it('prints the clusterless objects as YAML on stdout and each warning on stderr, and exits 0', async () => {
    const w = fakeWorld();
    const r = await w.run(['convert', '-f', 'prod.yaml'], { files });
    expect(r.code).toBe(0);
    expect(names(r.stdout)).toEqual([
      'MachineClass/prod-control-plane',
      'MachineClass/prod-md-0',
      'MachineClass/prod-md-1',
      'ClusterResourceSet/calico',
      'Cluster/prod',
      'ControlPlane/prod-control-plane',
      'MachineDeployment/prod-md-0',
      'MachineDeployment/prod-md-1',
      'MachineHealthCheck/prod-md-0-unhealthy',
      'MachineHealthCheck/prod-control-plane-unhealthy',
    ]);
    const stderr = r.stderr.split('\n').filter(Boolean);
    expect(stderr).toHaveLength(13);
    expect(stderr.every((l) => l.startsWith('warning: '))).toBe(true);
    expect(stderr).toContain(
      'warning: KubeadmControlPlane/prod-control-plane spec.kubeadmConfigSpec.files[0]: not converted (clusterless renders the kubeadm configuration itself)',
    );
    // Nothing is sent: convert works without a server.
    expect(w.requests).toEqual([]);
  });

  it('prints a List with -o json', async () => {
    const r = await fakeWorld().run(['convert', '-f', 'prod-v1beta2.yaml', '-o', 'json'], { files });
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List' });
    expect(list.items).toHaveLength(10);
  });

  it('converts a ClusterClass file: the MachineClasses, the ClusterClass and its Clusters on stdout, exit 0', async () => {
    const r = await fakeWorld().run(['convert', '-f', 'classy.yaml'], { files });
    expect(r.code).toBe(0);
    expect(names(r.stdout)).toEqual([
      'MachineClass/quick-start-control-plane',
      'MachineClass/quick-start-worker-machinetemplate',
      'MachineClass/quick-start-gpu-machinetemplate',
      'ClusterClass/quick-start',
      'Cluster/classy',
      'Cluster/classy-west',
    ]);
    expect(
      r.stderr
        .split('\n')
        .filter(Boolean)
        .every((l) => l.startsWith('warning: ')),
    ).toBe(true);
  });

  it('refuses Clusters whose ClusterClass is not in the file: the errors on stderr, nothing on stdout, exit 2', async () => {
    const r = await fakeWorld().run(['convert', '-f', 'classless.yaml'], { files });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error: Cluster/classy spec.topology.class: ClusterClass/quick-start is not in the file (its templates make the cluster)\n');
  });
});

describe('clusterless apply of Cluster API manifests', () => {
  it('converts first, prints the warnings on stderr, then creates every object', async () => {
    const w = fakeWorld();
    const r = await w.run(['apply', '-f', 'prod.yaml'], { files });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      'machineclass.clusterless.dev/prod-control-plane created',
      'machineclass.clusterless.dev/prod-md-0 created',
      'machineclass.clusterless.dev/prod-md-1 created',
      'clusterresourceset.clusterless.dev/calico created',
      'cluster.clusterless.dev/prod created',
      'controlplane.clusterless.dev/prod-control-plane created',
      'machinedeployment.clusterless.dev/prod-md-0 created',
      'machinedeployment.clusterless.dev/prod-md-1 created',
      'machinehealthcheck.clusterless.dev/prod-md-0-unhealthy created',
      'machinehealthcheck.clusterless.dev/prod-control-plane-unhealthy created',
    ]);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(13);
    const cluster = await w.api('GET', '/apis/clusterless.dev/v1alpha1/namespaces/default/clusters/prod');
    expect(cluster.status).toBe(200);
    expect(cluster.json.spec.provider.aws.region).toBe('us-east-1');
  });

  it('applies nothing from a file the conversion refuses', async () => {
    const w = fakeWorld();
    const r = await w.run(['apply', '-f', 'classless.yaml'], { files });
    expect(r.code).toBe(2);
    expect(w.requests).toEqual([]);
  });
});
