/**
 * A Cluster API management cluster for `clusterless import` tests: minimal CRDs for the Cluster API kinds (their
 * group, version and kind, any fields kept), and a cluster as Cluster API with its AWS provider leaves it: three
 * control-plane machines and a two-machine MachineDeployment, each with its AWSMachine naming an instance on moto
 * tagged as CAPA tags it (cluster-api-provider-aws api/v1beta2/tags.go), and the certificate Secrets of
 * cluster-api util/secret.
 */
import { RunInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { IMPORTED_KINDS, capaOwnedTagKey } from '../../../functions/api/capi/import-plan.js';
import { generateClusterCertificates } from '../../../functions/adapters/kubeadm/certificates.js';
import type { MotoNetwork } from '../providers/ec2-fixtures.js';

type Obj = Record<string, unknown>;

/** The CRDs, each served at one version (Cluster API 1.10's v1beta1, CAPA's v1beta2), every field kept. */
export function capiCrds(): Obj[] {
  return IMPORTED_KINDS.map(({ group, kind, plural }) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: group === 'infrastructure.cluster.x-k8s.io' ? 'v1beta2' : 'v1beta1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  }));
}

export interface CapaInstance {
  instanceId: string;
  zone: string;
}

/** Launches an instance on moto tagged as CAPA tags its instances (or, `owned: false`, with only a Name). */
export async function capaInstance(
  ec2: EC2Client,
  net: MotoNetwork,
  o: { cluster: string; machine: string; role: 'control-plane' | 'node'; owned?: boolean; zone?: number },
): Promise<CapaInstance> {
  const subnet = net.subnets[(o.zone ?? 0) % net.subnets.length]!;
  const tags =
    o.owned === false
      ? [{ Key: 'Name', Value: o.machine }]
      : [
          { Key: 'Name', Value: o.machine },
          { Key: capaOwnedTagKey(o.cluster), Value: 'owned' },
          { Key: 'sigs.k8s.io/cluster-api-provider-aws/role', Value: o.role },
          { Key: `kubernetes.io/cluster/${o.cluster}`, Value: 'owned' },
        ];
  const out = await ec2.send(
    new RunInstancesCommand({
      ImageId: net.ami,
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      SubnetId: subnet.id,
      TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
    }),
  );
  return { instanceId: out.Instances![0]!.InstanceId!, zone: subnet.availabilityZone };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export interface CapiClusterOptions {
  name: string;
  namespace: string;
  paused: boolean;
  net: MotoNetwork;
  /** Instances of the control-plane machines, then of the workers. */
  controlPlane: CapaInstance[];
  workers: CapaInstance[];
}

/** The Cluster API objects of one cluster, with its Machines, AWSMachines and certificate Secrets. */
export async function capiCluster(o: CapiClusterOptions): Promise<Obj[]> {
  const { name, namespace } = o;
  const meta = (n: string, extra: Obj = {}) => ({ name: n, namespace, ...extra });
  const clusterLabel = { 'cluster.x-k8s.io/cluster-name': name };
  const objects: Obj[] = [
    {
      apiVersion: 'cluster.x-k8s.io/v1beta1',
      kind: 'Cluster',
      metadata: meta(name, { labels: { cni: name }, annotations: o.paused ? { 'cluster.x-k8s.io/paused': '' } : {} }),
      spec: {
        paused: o.paused,
        clusterNetwork: { pods: { cidrBlocks: ['192.168.0.0/16'] } },
        controlPlaneRef: { apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1', kind: 'KubeadmControlPlane', name: `${name}-control-plane` },
        infrastructureRef: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'AWSCluster', name },
      },
    },
    {
      apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
      kind: 'AWSCluster',
      metadata: meta(name),
      spec: {
        region: 'us-east-1',
        network: { vpc: { id: o.net.vpcId }, subnets: o.net.subnets.map((s) => ({ id: s.id, availabilityZone: s.availabilityZone })) },
      },
    },
    {
      apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1',
      kind: 'KubeadmControlPlane',
      metadata: meta(`${name}-control-plane`),
      spec: {
        replicas: o.controlPlane.length,
        version: 'v1.31.2',
        machineTemplate: {
          infrastructureRef: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'AWSMachineTemplate', name: `${name}-control-plane` },
        },
        kubeadmConfigSpec: {},
      },
    },
    {
      apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
      kind: 'AWSMachineTemplate',
      metadata: meta(`${name}-control-plane`),
      spec: { template: { spec: { instanceType: 't3.micro', ami: { id: o.net.ami } } } },
    },
    {
      apiVersion: 'cluster.x-k8s.io/v1beta1',
      kind: 'MachineDeployment',
      metadata: meta(`${name}-md-0`, { labels: clusterLabel }),
      spec: {
        clusterName: name,
        replicas: o.workers.length,
        selector: { matchLabels: { 'cluster.x-k8s.io/deployment-name': `${name}-md-0` } },
        template: {
          metadata: { labels: { 'cluster.x-k8s.io/deployment-name': `${name}-md-0` } },
          spec: {
            clusterName: name,
            version: 'v1.31.2',
            bootstrap: { configRef: { apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'KubeadmConfigTemplate', name: `${name}-md-0` } },
            infrastructureRef: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'AWSMachineTemplate', name: `${name}-md-0` },
          },
        },
      },
    },
    {
      apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
      kind: 'AWSMachineTemplate',
      metadata: meta(`${name}-md-0`),
      spec: { template: { spec: { instanceType: 't3.micro', ami: { id: o.net.ami } } } },
    },
    { apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'KubeadmConfigTemplate', metadata: meta(`${name}-md-0`), spec: { template: { spec: {} } } },
    {
      apiVersion: 'cluster.x-k8s.io/v1beta1',
      kind: 'MachineHealthCheck',
      metadata: meta(`${name}-md-0-unhealthy`, { labels: clusterLabel }),
      spec: {
        clusterName: name,
        maxUnhealthy: '40%',
        selector: { matchLabels: { 'cluster.x-k8s.io/deployment-name': `${name}-md-0` } },
        unhealthyConditions: [{ type: 'Ready', status: 'False', timeout: '300s' }],
      },
    },
    {
      apiVersion: 'addons.cluster.x-k8s.io/v1beta1',
      kind: 'ClusterResourceSet',
      metadata: meta(`${name}-cni`),
      spec: { clusterSelector: { matchLabels: { cni: name } }, resources: [{ kind: 'ConfigMap', name: `${name}-cni` }], strategy: 'ApplyOnce' },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(`${name}-cni`),
      data: { 'cni.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cni\n  namespace: kube-system\ndata:\n  cluster: ${name}\n` },
    },
  ];
  const machine = (n: string, i: CapaInstance, labels: Obj): void => {
    const providerID = `aws:///${i.zone}/${i.instanceId}`;
    objects.push(
      {
        apiVersion: 'cluster.x-k8s.io/v1beta1',
        kind: 'Machine',
        metadata: meta(n, { labels: { ...clusterLabel, ...labels } }),
        spec: {
          clusterName: name,
          version: 'v1.31.2',
          providerID,
          failureDomain: i.zone,
          bootstrap: { dataSecretName: n },
          infrastructureRef: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'AWSMachine', name: n },
        },
      },
      {
        apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
        kind: 'AWSMachine',
        metadata: meta(n, { labels: clusterLabel }),
        spec: { instanceID: i.instanceId, providerID, instanceType: 't3.micro' },
      },
    );
  };
  for (const [k, i] of o.controlPlane.entries())
    machine(`${name}-control-plane-${k}`, i, { 'cluster.x-k8s.io/control-plane': '', 'cluster.x-k8s.io/control-plane-name': `${name}-control-plane` });
  for (const [k, i] of o.workers.entries())
    machine(`${name}-md-0-abc-${k}`, i, { 'cluster.x-k8s.io/deployment-name': `${name}-md-0`, 'cluster.x-k8s.io/set-name': `${name}-md-0-abc` });
  const certs = await generateClusterCertificates(new Date());
  const tls = (suffix: string, crt: string, key: string) =>
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(`${name}-${suffix}`, { labels: clusterLabel }),
      type: 'cluster.x-k8s.io/secret',
      data: { 'tls.crt': b64(crt), 'tls.key': b64(key) },
    });
  tls('ca', certs.ca.cert, certs.ca.key);
  tls('etcd', certs.etcdCa.cert, certs.etcdCa.key);
  tls('proxy', certs.frontProxyCa.cert, certs.frontProxyCa.key);
  tls('sa', certs.serviceAccount.pub, certs.serviceAccount.key);
  return objects;
}
