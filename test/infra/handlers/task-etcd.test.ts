/**
 * The tasks' etcd on AWS (functions/handlers/task-deps.ts etcdFromEnvironment): read only where the stack says the
 * function reaches the members (ETCD_CLIENT_PORT, set for the functions in the workload network), at each running
 * control-plane instance's private address, with a client certificate of the cluster's etcd CA.
 */
import { describe, expect, it } from 'vitest';
import type { KubeadmBootstrapper } from '../../../functions/adapters/kubeadm/kubeadm-bootstrapper.js';
import type { InstanceFact } from '../../../functions/core/observed.js';
import { etcdFromEnvironment } from '../../../functions/handlers/task-deps.js';
import { EtcdUnavailableError, type EtcdTarget } from '../../../functions/ports.js';

/** A bootstrapper that has no etcd CA for any cluster yet, and says which it was asked for. */
function bootstrapWithoutCa(asked: string[]): KubeadmBootstrapper {
  return {
    etcdClientCredentials: async (namespace: string, clusterName: string) => (asked.push(`${namespace}/${clusterName}`), undefined),
  } as unknown as KubeadmBootstrapper;
}

const instance = (id: string, state: InstanceFact['state'], ip?: string): InstanceFact => ({
  machineUid: `uid-${id}`,
  instanceId: id,
  providerID: `aws:///us-east-1a/${id}`,
  state,
  ...(ip ? { addresses: [{ type: 'InternalIP', address: ip }] } : {}),
});

const target = (instances: InstanceFact[]): EtcdTarget => ({
  namespace: 'team-a',
  clusterName: 'prod',
  clusterSpec: {} as EtcdTarget['clusterSpec'],
  instances,
});

describe('the tasks reach etcd', () => {
  it('not at all without ETCD_CLIENT_PORT (outside the workload network): the members are inferred', () => {
    expect(etcdFromEnvironment({}, bootstrapWithoutCa([]))).toEqual({});
    expect(etcdFromEnvironment({ ETCD_CLIENT_PORT: 'none' }, bootstrapWithoutCa([]))).toEqual({});
  });

  it('with ETCD_CLIENT_PORT, through the running control-plane instances only, with the cluster etcd CA', async () => {
    // Prepare
    const asked: string[] = [];
    const { etcd } = etcdFromEnvironment({ ETCD_CLIENT_PORT: '2379' }, bootstrapWithoutCa(asked));
    // Act: no instance runs, so there is no member to reach.
    const none = await etcd!.read(target([instance('i-1', 'stopped', '10.0.1.5'), instance('i-2', 'pending')]));
    // Act: one runs, but the cluster has no etcd CA yet: refused before any connection.
    const refused = etcd!.read(target([instance('i-3', 'running', '127.0.0.1')]));
    // Assess
    expect(none).toBeUndefined();
    await expect(refused).rejects.toBeInstanceOf(EtcdUnavailableError);
    await expect(refused).rejects.toThrow('team-a/prod has no etcd CA yet');
    expect(asked).toEqual(['team-a/prod']);
  });
});
