/** Which machine runs kubeadm init, which machines still join, and the AWS host's wiring of the bootstrap. */
import { describe, expect, it } from 'vitest';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { Machine } from '../../../functions/api/machine.js';
import { KubeadmBootstrapper } from '../../../functions/adapters/kubeadm/index.js';
import { initialisesControlPlane, joiningMachines } from '../../../functions/workflows/bootstrap-hooks.js';
import {
  bootstrapperFromEnvironment,
  instanceArnPrefixFromEnvironment,
  nodeInstanceProfilesFromEnvironment,
} from '../../../functions/handlers/bootstrap-deps.js';
import { taskDepsFromEnvironment, workloadDepsFromEnvironment } from '../../../functions/handlers/task-deps.js';
import { Ec2MachineProvider } from '../../../functions/adapters/ec2/index.js';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { KubernetesNodeLabeler, KubernetesNodeReader } from '../../../functions/adapters/kubernetes/index.js';
import { noWorkloadsDrainer, NodeReaderUnavailableError } from '../../../functions/ports.js';
import { silentLogger } from '../../../functions/workflows/index.js';

const cluster = (initialized = false): Cluster =>
  ({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'c', namespace: 'default', uid: 'cl' },
    spec: {},
    status: initialized ? { conditions: [{ type: 'ControlPlaneInitialized', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] } : {},
  }) as unknown as Cluster;

const machine = (name: string, o: { cp?: boolean; node?: boolean; deleting?: boolean; failed?: boolean } = {}): Machine =>
  ({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'Machine',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      labels: o.cp ? { 'clusterless.dev/control-plane': '' } : {},
      ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: { clusterName: 'c', version: 'v1.34.1', machineClassRef: { name: 'mc' } },
    status: { ...(o.node ? { nodeRef: { name: `node-${name}` } } : {}), ...(o.failed ? { failureReason: 'CreateError' } : {}) },
  }) as unknown as Machine;

const controlPlane = (initialized: boolean): ApiObject =>
  ({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'ControlPlane',
    metadata: { name: 'cp', namespace: 'default' },
    spec: { clusterName: 'c' },
    status: { initialized },
  }) as unknown as ApiObject;

describe('initialisesControlPlane', () => {
  it.each([
    { name: 'the first control-plane machine of a new cluster', m: machine('cp-0', { cp: true }), c: cluster(), objects: [controlPlane(false)], init: true },
    { name: 'a worker', m: machine('w-0'), c: cluster(), objects: [], init: false },
    {
      name: 'a control-plane machine once the Cluster says the control plane is initialized',
      m: machine('cp-1', { cp: true }),
      c: cluster(true),
      objects: [],
      init: false,
    },
    {
      name: 'a control-plane machine once the ControlPlane says so',
      m: machine('cp-1', { cp: true }),
      c: cluster(),
      objects: [controlPlane(true)],
      init: false,
    },
    {
      name: 'a control-plane machine while another one has a node',
      m: machine('cp-1', { cp: true }),
      c: cluster(),
      objects: [machine('cp-0', { cp: true, node: true })],
      init: false,
    },
    {
      name: 'the replacement of a first machine that never got a node',
      m: machine('cp-1', { cp: true }),
      c: cluster(),
      objects: [machine('cp-0', { cp: true, deleting: true })],
      init: true,
    },
  ])('$name: init $init', ({ m, c, objects, init }) => {
    expect(initialisesControlPlane(m, c, [...objects, m])).toBe(init);
  });
});

describe('joiningMachines', () => {
  it('are those without a node that are neither deleting nor failed, launched or not', () => {
    const all = [machine('a', { cp: true }), machine('b', { node: true }), machine('c', { deleting: true }), machine('d', { failed: true }), machine('e')];
    expect(joiningMachines(all)).toEqual([
      { machineUid: 'uid-a', role: 'control-plane' },
      { machineUid: 'uid-e', role: 'worker' },
    ]);
  });
});

describe('the AWS host (task-deps)', () => {
  const store = new MemoryStore();

  it('bootstraps with Secrets Manager and reads and drains nodes through the cluster CA when told the secrets key', async () => {
    const deps = workloadDepsFromEnvironment(
      { SECRETS_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:1:key/k', AWS_REGION: 'us-east-1', INSTALLATION_ID: 'test-installation' },
      store,
      silentLogger,
    );
    expect(deps.bootstrap).toBeInstanceOf(KubeadmBootstrapper);
    expect(deps.nodes).toBeInstanceOf(KubernetesNodeReader);
    expect(deps.nodeLabels).toBeInstanceOf(KubernetesNodeLabeler);
    expect(deps.targetGroups).toBeDefined();
    // A cluster it does not know has no kubeconfig: its nodes are unknown, not absent.
    await expect(deps.nodes.listNodes('default', 'nowhere')).rejects.toBeInstanceOf(NodeReaderUnavailableError);
  });

  it('without the key, reads no nodes and drains nothing, as before', async () => {
    const deps = workloadDepsFromEnvironment({}, store, silentLogger);
    expect(deps.bootstrap).toBeUndefined();
    expect(deps.drainer).toBe(noWorkloadsDrainer);
    expect(deps.nodeLabels).toBeUndefined();
    await expect(deps.nodes.listNodes('default', 'c')).rejects.toBeInstanceOf(NodeReaderUnavailableError);
  });
});

describe('the installation on the AWS host (task-deps, bootstrap-deps)', () => {
  const base = { TABLE_NAME: 't', AWS_REGION: 'us-east-1' };

  it('refuses to start a task without INSTALLATION_ID, saying which variable is missing', () => {
    expect(() => taskDepsFromEnvironment(base)).toThrow(/INSTALLATION_ID is not set/);
  });

  it.each([
    { name: 'an INSTALLATION_ID that is no installation id', env: { INSTALLATION_ID: 'not valid!' }, error: /INSTALLATION_ID is "not valid!"/ },
    {
      name: 'NODE_INSTANCE_PROFILES that is not JSON',
      env: { INSTALLATION_ID: 'install-1', NODE_INSTANCE_PROFILES: '{' },
      error: /NODE_INSTANCE_PROFILES is not JSON/,
    },
    {
      name: 'NODE_INSTANCE_PROFILES naming an unknown role',
      env: { INSTALLATION_ID: 'install-1', NODE_INSTANCE_PROFILES: '{"admin":"arn:aws:iam::1:instance-profile/a"}' },
      error: /unknown role "admin"/,
    },
  ])('refuses to start a task with $name', ({ env, error }) => {
    expect(() => taskDepsFromEnvironment({ ...base, ...env })).toThrow(error);
  });

  it("builds the EC2 provider for the installation, with the node roles' instance profiles", () => {
    const profiles = { 'control-plane': 'arn:aws:iam::123456789012:instance-profile/cp', worker: 'arn:aws:iam::123456789012:instance-profile/w' };
    const deps = taskDepsFromEnvironment({ ...base, INSTALLATION_ID: 'install-1', NODE_INSTANCE_PROFILES: JSON.stringify(profiles) });
    expect(deps.provider).toBeInstanceOf(Ec2MachineProvider);
    expect((deps.provider as Ec2MachineProvider).installationId).toBe('install-1');
    expect(nodeInstanceProfilesFromEnvironment({ NODE_INSTANCE_PROFILES: JSON.stringify(profiles) })).toEqual(profiles);
  });

  it('refuses to build the bootstrap without INSTALLATION_ID when it has the secrets key', () => {
    expect(() => bootstrapperFromEnvironment({ SECRETS_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:1:key/k' })).toThrow(/INSTALLATION_ID is not set/);
  });

  it('takes the instance ARN prefix the stack sets, and refuses one of another shape', () => {
    expect(instanceArnPrefixFromEnvironment({ INSTANCE_ARN_PREFIX: 'arn:aws:ec2:us-east-1:123456789012:instance/' })).toBe(
      'arn:aws:ec2:us-east-1:123456789012:instance/',
    );
    expect(instanceArnPrefixFromEnvironment({})).toBeUndefined();
    expect(() => instanceArnPrefixFromEnvironment({ INSTANCE_ARN_PREFIX: 'arn:aws:ec2:us-east-1:123456789012:instance' })).toThrow(/INSTANCE_ARN_PREFIX/);
  });
});
