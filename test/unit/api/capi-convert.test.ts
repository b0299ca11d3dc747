import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { convertClusterApi, formatIssue, isClusterApiDocument } from '../../../functions/api/capi/convert.js';
import { validateCreate } from '../../../functions/api/validate.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/capi');
const SSM = '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id';
const docsOf = (text: string): any[] => parseAllDocuments(text).map((d) => (Array.isArray(d) ? undefined : d.toJS()));
const fixture = (name: string) => docsOf(readFileSync(join(FIXTURES, name), 'utf8'));
const convert = (docs: unknown[]) => convertClusterApi(docs, { defaultImageSsmParameter: SSM });
const objectOf = (objects: Record<string, unknown>[], kind: string, name: string): any => {
  const o = objects.find((x) => x['kind'] === kind && (x['metadata'] as any).name === name);
  if (!o) throw new Error(`no ${kind}/${name} in ${objects.map((x) => `${x['kind']}/${(x['metadata'] as any).name}`).join(', ')}`);
  return o;
};
const lines = (r: { warnings: any[] }) => r.warnings.map(formatIssue);

/** The v1beta1 fixture with one document changed by `edit` (found by kind and name). */
function edited(kind: string, name: string, edit: (doc: any) => void): any[] {
  const docs = fixture('cluster-v1beta1.yaml');
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
  edit(doc);
  return docs;
}

describe.each(['cluster-v1beta1.yaml', 'cluster-v1beta2.yaml'])('convert %s', (file) => {
  const r = convert(fixture(file));

  it('makes the classes, addons, cluster, control plane, deployments and health checks, in the order they are created', () => {
    expect(r.errors).toEqual([]);
    expect(r.objects.map((o) => `${o['kind']}/${(o['metadata'] as any).name}`)).toEqual([
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
  });

  it('writes objects the API validates as they are', () => {
    for (const o of r.objects) {
      const v = validateCreate(o);
      expect(v.ok ? [] : v.causes, String(o['kind'])).toEqual([]);
    }
  });

  it('maps the Cluster and AWSCluster: labels, pod network, region, subnets, SSH key, an internet-facing load balancer', () => {
    expect(objectOf(r.objects, 'Cluster', 'prod')).toEqual({
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'prod', labels: { cni: 'calico' } },
      spec: {
        clusterNetwork: { pods: { cidrBlocks: ['192.168.0.0/16'] } },
        provider: {
          aws: {
            region: 'us-east-1',
            subnets: [
              { id: 'subnet-0a0a0a0a0a0a0a0a0', availabilityZone: 'us-east-1a' },
              { id: 'subnet-0b0b0b0b0b0b0b0b0', availabilityZone: 'us-east-1b' },
              { id: 'subnet-0c0c0c0c0c0c0c0c0', availabilityZone: 'us-east-1c' },
            ],
            controlPlaneLoadBalancer: { scheme: 'internet-facing' },
            sshKeyName: 'ops',
          },
        },
      },
    });
  });

  it('maps the KubeadmControlPlane: replicas, version, class, teardown timeouts, taints, maxSurge and remediation', () => {
    expect(objectOf(r.objects, 'ControlPlane', 'prod-control-plane').spec).toEqual({
      clusterName: 'prod',
      replicas: 3,
      version: 'v1.31.2',
      machineClassRef: { name: 'prod-control-plane' },
      nodeDrainTimeoutSeconds: 300,
      nodeVolumeDetachTimeoutSeconds: 120,
      nodeDeletionTimeoutSeconds: 30,
      // kubeadm's control-plane taint is dropped: clusterless registers it first on every control-plane node.
      taints: [{ key: 'example.com/control-only', value: 'true', effect: 'NoExecute' }],
      rollout: { maxSurge: 0 },
      remediation: { maxRetry: 3, retryPeriodSeconds: 120, minHealthyPeriodSeconds: 7200 },
    });
  });

  it('makes each AWSMachineTemplate a MachineClass: instance type, AMI or the default image, profile, root volume, spot, subnet zone', () => {
    expect(objectOf(r.objects, 'MachineClass', 'prod-control-plane').spec.aws).toEqual({
      instanceTypes: ['m7i.large'],
      ami: 'ami-0123456789abcdef0',
      iamInstanceProfile: 'control-plane.cluster-api-provider-aws.sigs.k8s.io',
      rootVolume: { sizeGiB: 80, type: 'gp3' },
    });
    expect(objectOf(r.objects, 'MachineClass', 'prod-md-0').spec.aws).toEqual({
      instanceTypes: ['m7i.xlarge'],
      imageSsmParameter: SSM,
      iamInstanceProfile: 'nodes.cluster-api-provider-aws.sigs.k8s.io',
      spot: { maxPrice: '0.12' },
    });
    expect(objectOf(r.objects, 'MachineClass', 'prod-md-1').spec.aws).toEqual({
      instanceTypes: ['c7i.2xlarge'],
      ami: 'ami-0123456789abcdef0',
      failureDomains: ['us-east-1b'],
    });
  });

  it('maps the MachineDeployments: replicas, template labels, annotations, rollout strategy, delete policy, minReadySeconds, teardown timeouts, failure domain', () => {
    const md0 = objectOf(r.objects, 'MachineDeployment', 'prod-md-0');
    expect(md0.metadata).toEqual({ name: 'prod-md-0', annotations: { team: 'payments' } });
    expect(md0.spec).toEqual({
      clusterName: 'prod',
      replicas: 2,
      template: {
        metadata: { labels: { nodepool: 'prod-md-0' } },
        spec: {
          version: 'v1.31.2',
          machineClassRef: { name: 'prod-md-0' },
          nodeDrainTimeoutSeconds: 600,
          nodeVolumeDetachTimeoutSeconds: 300,
          nodeDeletionTimeoutSeconds: 60,
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 1 } },
      deletePolicy: 'Oldest',
      minReadySeconds: 30,
    });
    // Unset, Cluster API drains and waits for volumes without a time limit: so does the converted deployment. An
    // unset node deletion timeout is Cluster API's 10 s, clusterless's default too.
    expect(objectOf(r.objects, 'MachineDeployment', 'prod-md-1').spec.template.spec).toEqual({
      version: 'v1.31.2',
      machineClassRef: { name: 'prod-md-1' },
      failureDomain: 'us-east-1b',
      nodeDrainTimeoutSeconds: 0,
      nodeVolumeDetachTimeoutSeconds: 0,
    });
  });

  it('puts the taints of the bootstrap template (joinConfiguration.nodeRegistration.taints) on the machine template, and warns about none of them', () => {
    const tainted = convert(
      edited('KubeadmConfigTemplate', 'prod-md-1', (d) => {
        d.spec.template.spec.joinConfiguration.nodeRegistration.taints = [
          { key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' },
          { key: 'spot', value: '', effect: 'PreferNoSchedule', timeAdded: '2026-01-01T00:00:00Z' },
        ];
      }),
    );
    expect(tainted.errors).toEqual([]);
    expect(objectOf(tainted.objects, 'MachineDeployment', 'prod-md-1').spec.template.spec.taints).toEqual([
      { key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' },
      { key: 'spot', effect: 'PreferNoSchedule' },
    ]);
    expect(objectOf(tainted.objects, 'MachineDeployment', 'prod-md-0').spec.template.spec.taints).toBeUndefined();
    expect(lines(tainted).filter((l) => l.includes('taints'))).toEqual([]);
  });

  it("names a control-plane taint list it cannot keep: one without kubeadm's control-plane taint, and a join list that differs", () => {
    const odd = convert(
      edited('KubeadmControlPlane', 'prod-control-plane', (d) => {
        d.spec.kubeadmConfigSpec.initConfiguration.nodeRegistration.taints = [];
        d.spec.kubeadmConfigSpec.joinConfiguration.nodeRegistration.taints = [{ key: 'a.example.com/x', effect: 'NoSchedule' }];
      }),
    );
    expect(odd.errors).toEqual([]);
    expect(objectOf(odd.objects, 'ControlPlane', 'prod-control-plane').spec.taints).toBeUndefined();
    expect(lines(odd).filter((l) => l.includes('taints'))).toEqual([
      "KubeadmControlPlane/prod-control-plane spec.kubeadmConfigSpec.joinConfiguration.nodeRegistration.taints: differs from initConfiguration's taints; clusterless registers every control-plane node with one list, the initConfiguration one",
      "KubeadmControlPlane/prod-control-plane spec.kubeadmConfigSpec.initConfiguration.nodeRegistration.taints: has no node-role.kubernetes.io/control-plane:NoSchedule; clusterless registers every control-plane node with kubeadm's control-plane taint",
    ]);
  });

  it("maps the MachineHealthChecks: Cluster API's labels in selectors, conditions, timeouts, maxUnhealthy", () => {
    const workers = objectOf(r.objects, 'MachineHealthCheck', 'prod-md-0-unhealthy').spec;
    expect(workers.selector).toEqual({ matchLabels: { 'clusterless.dev/deployment-name': 'prod-md-0' } });
    expect(workers.maxUnhealthy).toBe('40%');
    expect(workers.unhealthyConditions.map((c: any) => [c.type, c.status])).toEqual([
      ['Ready', 'Unknown'],
      ['Ready', 'False'],
    ]);
    expect(workers.unhealthyConditions.map((c: any) => c.timeout)).toEqual(['300s', '300s']);
    expect(workers.nodeStartupTimeout).toBe(file.includes('v1beta2') ? '900s' : '15m');
    const cp = objectOf(r.objects, 'MachineHealthCheck', 'prod-control-plane-unhealthy').spec;
    expect(cp).toMatchObject({ selector: { matchLabels: { 'clusterless.dev/control-plane': '' } }, maxUnhealthy: 1 });
  });

  it('makes each ConfigMap and Secret of a ClusterResourceSet one resource: data keys in sorted order, Secrets decoded', () => {
    const set = objectOf(r.objects, 'ClusterResourceSet', 'calico');
    expect(set.spec.clusterSelector).toEqual({ matchLabels: { cni: 'calico' } });
    expect(set.spec.strategy).toBe('ApplyOnce');
    expect(set.spec.resources.map((x: any) => x.name)).toEqual(['calico-addon', 'registry-credentials']);
    expect(docsOf(set.spec.resources[0].manifests).map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['Namespace/calico-system', 'ConfigMap/calico-config']);
    expect(docsOf(set.spec.resources[1].manifests)[0]).toMatchObject({ kind: 'Secret', stringData: { token: 's3cret' } });
  });

  it('names every field it leaves behind, by its path, and nothing it converted', () => {
    const kubeadm = 'not converted (clusterless renders the kubeadm configuration itself)';
    const args = file.includes('v1beta2') ? ['extraArgs[0]', 'kubeletExtraArgs[0]'] : ['extraArgs[cloud-provider]', 'kubeletExtraArgs[cloud-provider]'];
    expect(lines(r)).toEqual(
      [
        'AWSCluster/prod spec.controlPlaneLoadBalancer.healthCheckProtocol: not converted (clusterless has no equivalent)',
        `KubeadmControlPlane/prod-control-plane spec.kubeadmConfigSpec.clusterConfiguration.controllerManager.${args[0]}: ${kubeadm}`,
        `KubeadmControlPlane/prod-control-plane spec.kubeadmConfigSpec.initConfiguration.nodeRegistration.${args[1]}: ${kubeadm}`,
        file.includes('v1beta1') && `KubeadmControlPlane/prod-control-plane spec.kubeadmConfigSpec.initConfiguration.nodeRegistration.name: ${kubeadm}`,
        `KubeadmControlPlane/prod-control-plane spec.kubeadmConfigSpec.joinConfiguration.nodeRegistration.${args[1]}: ${kubeadm}`,
        file.includes('v1beta1') && `KubeadmControlPlane/prod-control-plane spec.kubeadmConfigSpec.joinConfiguration.nodeRegistration.name: ${kubeadm}`,
        `KubeadmControlPlane/prod-control-plane spec.kubeadmConfigSpec.files[0]: ${kubeadm}`,
        `AWSMachineTemplate/prod-md-0 spec.template.spec.ami: not set: Cluster API AWS looks up its own published image for the Kubernetes version; clusterless uses the image of the SSM parameter ${SSM}`,
        "AWSMachineTemplate/prod-md-0 spec.template.spec.additionalSecurityGroups: not converted (clusterless attaches the Cluster's spec.provider.aws.securityGroupIds to every machine: add the groups there)",
        `KubeadmConfigTemplate/prod-md-0 spec.template.spec.joinConfiguration.nodeRegistration.${args[1]}: ${kubeadm}`,
        file.includes('v1beta1') && `KubeadmConfigTemplate/prod-md-0 spec.template.spec.joinConfiguration.nodeRegistration.name: ${kubeadm}`,
        `KubeadmConfigTemplate/prod-md-1 spec.template.spec.joinConfiguration.nodeRegistration.${args[1]}: ${kubeadm}`,
        'Secret/registry-credentials data: converted to plain manifests of the ClusterResourceSet: whoever may read ClusterResourceSets in the namespace reads them',
      ].filter(Boolean),
    );
  });
});

describe('convert: MachineSet preflight checks', () => {
  it("renames Cluster API's skip-preflight-checks annotation of a MachineDeployment, which its sets then carry", () => {
    const r = convert(
      edited('MachineDeployment', 'prod-md-0', (d) => {
        d.metadata.annotations = { ...d.metadata.annotations, 'machineset.cluster.x-k8s.io/skip-preflight-checks': 'KubeadmVersionSkew' };
      }),
    );
    expect(r.errors).toEqual([]);
    expect(objectOf(r.objects, 'MachineDeployment', 'prod-md-0').metadata.annotations).toMatchObject({
      'clusterless.dev/skip-preflight-checks': 'KubeadmVersionSkew',
    });
  });
});

describe('convert: fields without an equivalent', () => {
  it.each([
    ['MachineDeployment', 'prod-md-0', (d: any) => (d.spec.rolloutAfter = '2026-01-01T00:00:00Z'), 'MachineDeployment/prod-md-0 spec.rolloutAfter'],
    ['AWSMachineTemplate', 'prod-md-0', (d: any) => (d.spec.template.spec.publicIP = true), 'AWSMachineTemplate/prod-md-0 spec.template.spec.publicIP'],
    ['AWSCluster', 'prod', (d: any) => (d.spec.bastion = { enabled: true }), 'AWSCluster/prod spec.bastion.enabled'],
    ['AWSCluster', 'prod', (d: any) => (d.spec.network.subnets[0].isPublic = true), 'AWSCluster/prod spec.network.subnets[0].isPublic'],
    [
      'KubeadmControlPlane',
      'prod-control-plane',
      (d: any) => (d.spec.machineTemplate.metadata = { labels: { a: 'b' } }),
      'KubeadmControlPlane/prod-control-plane spec.machineTemplate.metadata.labels[a]',
    ],
    [
      'MachineHealthCheck',
      'prod-md-0-unhealthy',
      (d: any) => (d.spec.remediationTemplate = { kind: 'X', name: 'y' }),
      'MachineHealthCheck/prod-md-0-unhealthy spec.remediationTemplate.kind',
    ],
    ['Cluster', 'prod', (d: any) => (d.spec.clusterNetwork.apiServerPort = 443), 'Cluster/prod spec.clusterNetwork.apiServerPort'],
  ])('%s/%s: %s is named in a warning', (kind, name, edit, want) => {
    const r = convert(edited(kind, name, edit));
    expect(r.errors).toEqual([]);
    expect(lines(r)).toContain(`${want}: not converted (clusterless has no equivalent)`);
  });

  it('names a root volume that is not encrypted: clusterless encrypts every one', () => {
    const r = convert(edited('AWSMachineTemplate', 'prod-control-plane', (d) => (d.spec.template.spec.rootVolume.encrypted = false)));
    expect(lines(r)).toContain(
      'AWSMachineTemplate/prod-control-plane spec.template.spec.rootVolume.encrypted: not converted (clusterless always encrypts root volumes)',
    );
  });

  it('names an SSH key of a template that is not its cluster’s (clusterless sets the key per cluster)', () => {
    const r = convert(edited('AWSMachineTemplate', 'prod-md-1', (d) => (d.spec.template.spec.sshKeyName = 'other')));
    expect(lines(r)).toContain(
      "AWSMachineTemplate/prod-md-1 spec.template.spec.sshKeyName: not converted (clusterless sets the SSH key per cluster, in the AWSCluster's spec.sshKeyName; other is not it)",
    );
  });

  it('skips an unknown kind with a warning, and a ConfigMap no ClusterResourceSet names', () => {
    const docs = [
      ...fixture('cluster-v1beta1.yaml'),
      { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'AWSClusterControllerIdentity', metadata: { name: 'default' }, spec: {} },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stray' }, data: { a: 'b' } },
    ];
    const r = convert(docs);
    expect(r.errors).toEqual([]);
    expect(lines(r)).toContain(
      'AWSClusterControllerIdentity/default: not converted (clusterless has no equivalent of infrastructure.cluster.x-k8s.io/v1beta2 AWSClusterControllerIdentity); skipped',
    );
    expect(lines(r)).toContain('ConfigMap/stray: not converted (no ClusterResourceSet names it); skipped');
    expect(r.objects).toHaveLength(10);
  });

  it('passes clusterless objects through unchanged', () => {
    const own = { apiVersion: 'clusterless.dev/v1alpha1', kind: 'MachineClass', metadata: { name: 'extra' }, spec: { sim: {} } };
    const r = convert([...fixture('cluster-v1beta1.yaml'), own]);
    expect(r.objects).toContain(own);
    expect(r.objects.indexOf(own)).toBeLessThan(r.objects.findIndex((o) => o['kind'] === 'Cluster'));
  });

  it('keeps Cluster API behaviour where a field is unset: no node conditions, no drain limit, internet-facing load balancer', () => {
    const r = convert(
      edited('MachineHealthCheck', 'prod-md-0-unhealthy', (d) => {
        delete d.spec.unhealthyConditions;
      }),
    );
    expect(objectOf(r.objects, 'MachineHealthCheck', 'prod-md-0-unhealthy').spec.unhealthyConditions).toEqual([]);
    const internal = convert(edited('AWSCluster', 'prod', (d) => (d.spec.controlPlaneLoadBalancer.scheme = 'internal')));
    expect(objectOf(internal.objects, 'Cluster', 'prod').spec.provider.aws.controlPlaneLoadBalancer).toEqual({ scheme: 'internal' });
    const none = convert(edited('AWSCluster', 'prod', (d) => (d.spec.controlPlaneLoadBalancer.loadBalancerType = 'disabled')));
    expect(objectOf(none.objects, 'Cluster', 'prod').spec.provider.aws.controlPlaneLoadBalancer).toBeUndefined();
  });

  it("maps the rest: unhealthyRange, the roles' security groups, the control plane endpoint, paused, the namespace", () => {
    const docs = fixture('cluster-v1beta1.yaml').map((d) => ({ ...d, metadata: { ...d.metadata, namespace: 'team-a' } }));
    const mhc = docs.find((d) => d.kind === 'MachineHealthCheck');
    mhc.spec.unhealthyRange = '[1-3]';
    const cluster = docs.find((d) => d.kind === 'Cluster');
    cluster.spec.paused = true;
    cluster.spec.controlPlaneEndpoint = { host: 'api.prod.example.com', port: 443 };
    docs.find((d) => d.kind === 'AWSCluster').spec.network.securityGroupOverrides = { controlplane: 'sg-0aaaaaaaaaaaaaaaa', node: 'sg-0bbbbbbbbbbbbbbbb' };
    const r = convert(docs);
    expect(r.errors).toEqual([]);
    expect(r.objects.every((o) => (o['metadata'] as any).namespace === 'team-a')).toBe(true);
    expect(objectOf(r.objects, 'MachineHealthCheck', 'prod-md-0-unhealthy').spec.unhealthyRange).toBe('[1-3]');
    const spec = objectOf(r.objects, 'Cluster', 'prod').spec;
    expect(spec).toMatchObject({ paused: true, controlPlaneEndpoint: { host: 'api.prod.example.com', port: 443 } });
    expect(spec.provider.aws.securityGroupIds).toEqual(['sg-0aaaaaaaaaaaaaaaa', 'sg-0bbbbbbbbbbbbbbbb']);
    // Both roles' groups go on every machine: said, not hidden.
    expect(lines(r).some((l) => l.startsWith('AWSCluster/prod spec.network.securityGroupOverrides: converted to spec.provider.aws.securityGroupIds'))).toBe(
      true,
    );
  });

  it('tells Cluster API documents from others', () => {
    expect(
      fixture('cluster-v1beta1.yaml')
        .filter(isClusterApiDocument)
        .map((d) => d.kind),
    ).not.toContain('ConfigMap');
    expect(isClusterApiDocument({ apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster' })).toBe(false);
    expect(isClusterApiDocument({ apiVersion: 'controlplane.cluster.x-k8s.io/v1beta2', kind: 'KubeadmControlPlane' })).toBe(true);
  });
});

describe('convert: MachinePool', () => {
  const r = convert(fixture('machinepool.yaml'));

  it('becomes a MachineDeployment with a MachineClass of the same instance settings, and says so', () => {
    expect(r.errors).toEqual([]);
    expect(objectOf(r.objects, 'MachineDeployment', 'pool-mp-0').spec).toEqual({
      clusterName: 'pool',
      replicas: 4,
      template: { spec: { version: 'v1.31.2', machineClassRef: { name: 'pool-mp-0' }, nodeDrainTimeoutSeconds: 0, nodeVolumeDetachTimeoutSeconds: 0 } },
    });
    expect(objectOf(r.objects, 'MachineClass', 'pool-mp-0').spec.aws).toEqual({
      instanceTypes: ['m7i.large', 'm6i.large', 'm5.large'],
      ami: 'ami-0123456789abcdef0',
      iamInstanceProfile: 'nodes.cluster-api-provider-aws.sigs.k8s.io',
      failureDomains: ['eu-west-1a'],
    });
    expect(lines(r)).toEqual([
      'MachinePool/pool-mp-0: converted to a MachineDeployment with the same instance settings: clusterless runs no Auto Scaling group, it makes and replaces each machine itself',
      'AWSMachinePool/pool-mp-0 spec.minSize: not converted (clusterless keeps spec.replicas machines; bounds for an autoscaler go in its annotations)',
      'AWSMachinePool/pool-mp-0 spec.maxSize: not converted (clusterless keeps spec.replicas machines; bounds for an autoscaler go in its annotations)',
      'KubeadmConfig/pool-mp-0 spec.joinConfiguration.nodeRegistration.name: not converted (clusterless renders the kubeadm configuration itself)',
    ]);
    for (const o of r.objects) expect(validateCreate(o).ok, String(o['kind'])).toBe(true);
  });
});

describe('convert: refusals', () => {
  it('refuses a result the API would refuse, naming the field and where it came from', () => {
    const r = convert(edited('AWSMachineTemplate', 'prod-md-1', (d) => (d.spec.template.spec.instanceType = 'huge')));
    expect(r.objects).toEqual([]);
    expect(r.errors.map(formatIssue)).toEqual([
      'MachineClass/prod-md-1 spec.aws.instanceTypes[0]: Invalid value: "huge": must be an EC2 instance type such as m7g.large (converted from AWSMachineTemplate/prod-md-1)',
    ]);
  });

  it('refuses an AWSCluster without existing subnets: clusterless makes no VPC', () => {
    const r = convert(edited('AWSCluster', 'prod', (d) => delete d.spec.network));
    expect(r.errors.map(formatIssue)).toContain(
      'AWSCluster/prod spec.network.subnets: clusterless does not create a VPC: name the existing subnets, one per availability zone, each with id and availabilityZone',
    );
  });

  it('refuses a reference to an object the file does not hold', () => {
    const docs = fixture('cluster-v1beta1.yaml').filter((d) => !(d.kind === 'AWSMachineTemplate' && d.metadata.name === 'prod-md-0'));
    expect(convert(docs).errors.map(formatIssue)).toEqual([
      'MachineDeployment/prod-md-0 spec.template.spec.infrastructureRef: AWSMachineTemplate/prod-md-0 is not in the file',
    ]);
  });

  it('refuses infrastructure other than AWS', () => {
    const r = convert(edited('Cluster', 'prod', (d) => (d.spec.infrastructureRef.kind = 'DockerCluster')));
    expect(r.errors.map(formatIssue)).toContain(
      'Cluster/prod spec.infrastructureRef.kind: Unsupported value: "DockerCluster": clusterless converts AWSCluster',
    );
  });
});

/** The v1beta1 ClusterClass fixture with one document changed by `edit` (found by kind and name). */
function classEdited(kind: string, name: string, edit: (doc: any) => void): any[] {
  const docs = fixture('clusterclass-v1beta1.yaml');
  edit(docs.find((d) => d.kind === kind && d.metadata.name === name));
  return docs;
}

const HEALTH = {
  v1beta1: { cp: '15m', worker: '10m' },
  v1beta2: { cp: '900s', worker: '600s' },
} as const;

describe.each([
  ['clusterclass-v1beta1.yaml', HEALTH.v1beta1],
  ['clusterclass-v1beta2.yaml', HEALTH.v1beta2],
])('convert %s', (file, startup) => {
  const r = convert(fixture(file));

  it('makes the MachineClasses, the ClusterClass and the topology Clusters, in the order they are created, all valid', () => {
    expect(r.errors).toEqual([]);
    expect(r.objects.map((o) => `${o['kind']}/${(o['metadata'] as any).name}`)).toEqual([
      'MachineClass/quick-start-control-plane',
      'MachineClass/quick-start-worker-machinetemplate',
      'MachineClass/quick-start-gpu-machinetemplate',
      'ClusterClass/quick-start',
      'Cluster/classy',
      'Cluster/classy-west',
    ]);
    for (const o of r.objects) {
      const v = validateCreate(o);
      expect(v.ok ? [] : v.causes, String(o['kind'])).toEqual([]);
    }
  });

  it('maps the ClusterClass: the control plane from its KubeadmControlPlaneTemplate, the worker classes with their templates, taints and health checks', () => {
    expect(objectOf(r.objects, 'ClusterClass', 'quick-start').spec).toEqual({
      controlPlane: {
        metadata: { labels: { tier: 'control-plane' } },
        machineClassRef: { name: 'quick-start-control-plane' },
        rollout: { maxSurge: 1 },
        remediation: { maxRetry: 3, retryPeriodSeconds: 60 },
        nodeDrainTimeoutSeconds: 120,
        machineHealthCheck: { unhealthyConditions: [{ type: 'Ready', status: 'Unknown', timeout: '300s' }], nodeStartupTimeout: startup.cp, maxUnhealthy: 1 },
      },
      workers: {
        machineDeployments: [
          {
            class: 'default-worker',
            template: {
              metadata: { labels: { pool: 'general' } },
              machineClassRef: { name: 'quick-start-worker-machinetemplate' },
              nodeDrainTimeoutSeconds: 300,
            },
            strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
            minReadySeconds: 30,
            machineHealthCheck: {
              unhealthyConditions: [{ type: 'Ready', status: 'False', timeout: '300s' }],
              nodeStartupTimeout: startup.worker,
              maxUnhealthy: '40%',
            },
          },
          {
            class: 'gpu-worker',
            template: { machineClassRef: { name: 'quick-start-gpu-machinetemplate' }, taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }] },
          },
        ],
      },
      variables: [
        { name: 'region', required: true, schema: { openAPIV3Schema: { type: 'string', default: 'us-east-1' } } },
        { name: 'sshKeyName', required: true, schema: { openAPIV3Schema: { type: 'string', default: 'default' } } },
        { name: 'workerMachineType', required: true, schema: { openAPIV3Schema: { type: 'string', default: 'm7i.large', enum: ['m7i.large', 'm7i.xlarge'] } } },
      ],
    });
  });

  it("makes each topology Cluster: class, version, replicas, workers and variables, its provider from the class's AWSClusterTemplate patched with its own variables", () => {
    const subnets = [
      { id: 'subnet-0a0a0a0a0a0a0a0a0', availabilityZone: 'us-east-1a' },
      { id: 'subnet-0b0b0b0b0b0b0b0b0', availabilityZone: 'us-east-1b' },
    ];
    expect(objectOf(r.objects, 'Cluster', 'classy')).toEqual({
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'classy', labels: { env: 'prod' } },
      spec: {
        clusterNetwork: { pods: { cidrBlocks: ['192.168.0.0/16'] } },
        provider: { aws: { region: 'us-east-1', subnets, controlPlaneLoadBalancer: { scheme: 'internal' }, sshKeyName: 'ops' } },
        topology: {
          class: 'quick-start',
          version: 'v1.31.2',
          controlPlane: { replicas: 3 },
          workers: {
            machineDeployments: [
              {
                class: 'default-worker',
                name: 'md-0',
                replicas: 2,
                failureDomain: 'us-east-1a',
                variables: { overrides: [{ name: 'workerMachineType', value: 'm7i.xlarge' }] },
              },
              { class: 'gpu-worker', name: 'gpu', replicas: 1 },
            ],
          },
          variables: [
            { name: 'region', value: 'us-east-1' },
            { name: 'sshKeyName', value: 'ops' },
          ],
        },
      },
    });
    // No value given: the variables' defaults fill the patched settings.
    expect(objectOf(r.objects, 'Cluster', 'classy-west').spec.provider.aws).toEqual({
      region: 'us-east-1',
      subnets,
      controlPlaneLoadBalancer: { scheme: 'internal' },
      sshKeyName: 'default',
    });
  });

  it("evaluates a machine template's patch into its MachineClass with the variable's default, and names the cluster values it cannot apply", () => {
    expect(objectOf(r.objects, 'MachineClass', 'quick-start-worker-machinetemplate').spec.aws.instanceTypes).toEqual(['m7i.large']);
    expect(lines(r)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^ClusterClass\/quick-start spec\.patches\[2\]\.definitions\[0\]\.jsonPatches\[0\]: evaluated into MachineClass quick-start-worker-machinetemplate with workerMachineType's default "m7i\.large"/,
        ),
        expect.stringMatching(/^Cluster\/classy-west spec\.topology\.variables\[0\]\.value: not applied to MachineClass quick-start-worker-machinetemplate/),
      ]),
    );
  });

  it('names every field it leaves behind, by its path, and nothing it converted', () => {
    const v2 = file.includes('v1beta2');
    const kubeadm = 'not converted (clusterless renders the kubeadm configuration itself)';
    const arg = v2 ? '[0]' : '[cloud-provider]';
    expect(lines(r).filter((l) => !l.includes('spec.template.spec.ami: not set'))).toEqual([
      expect.stringMatching(/^ClusterClass\/quick-start spec\.patches\[2\]\.definitions\[0\]\.jsonPatches\[0\]: evaluated into/),
      `ClusterClass/quick-start spec.patches[3].definitions[0].jsonPatches[0]: ${kubeadm}`,
      `ClusterClass/quick-start spec.controlPlane.${v2 ? 'naming' : 'namingStrategy'}.template: not converted (clusterless has no equivalent)`,
      `ClusterClass/quick-start spec.workers.machineDeployments[0].${v2 ? 'deletion.order' : 'strategy.rollingUpdate.deletePolicy'}: not converted (clusterless has no equivalent)`,
      `KubeadmControlPlaneTemplate/quick-start-control-plane spec.template.spec.kubeadmConfigSpec.clusterConfiguration.controllerManager.extraArgs${arg}: ${kubeadm}`,
      `KubeadmControlPlaneTemplate/quick-start-control-plane spec.template.spec.kubeadmConfigSpec.initConfiguration.nodeRegistration.name: ${kubeadm}`,
      `KubeadmControlPlaneTemplate/quick-start-control-plane spec.template.spec.kubeadmConfigSpec.initConfiguration.nodeRegistration.kubeletExtraArgs${arg}: ${kubeadm}`,
      `KubeadmControlPlaneTemplate/quick-start-control-plane spec.template.spec.kubeadmConfigSpec.joinConfiguration.nodeRegistration.name: ${kubeadm}`,
      `KubeadmControlPlaneTemplate/quick-start-control-plane spec.template.spec.kubeadmConfigSpec.joinConfiguration.nodeRegistration.kubeletExtraArgs${arg}: ${kubeadm}`,
      `KubeadmConfigTemplate/quick-start-worker-bootstraptemplate spec.template.spec.joinConfiguration.nodeRegistration.name: ${kubeadm}`,
      `KubeadmConfigTemplate/quick-start-worker-bootstraptemplate spec.template.spec.joinConfiguration.nodeRegistration.kubeletExtraArgs${arg}: ${kubeadm}`,
      `KubeadmConfigTemplate/quick-start-gpu-bootstraptemplate spec.template.spec.joinConfiguration.nodeRegistration.name: ${kubeadm}`,
      expect.stringMatching(/^Cluster\/classy spec\.topology\.workers\.machineDeployments\[0\]\.variables\.overrides\[0\]\.value: not applied/),
      expect.stringMatching(/^Cluster\/classy-west spec\.topology\.variables\[0\]\.value: not applied/),
    ]);
  });
});

describe('convert: ClusterClass details', () => {
  it('names an AWSClusterTemplate field clusterless has no place for, under the template path, once for all the clusters reading it', () => {
    const r = convert(classEdited('AWSClusterTemplate', 'quick-start', (d) => (d.spec.template.spec.bastion = { enabled: true })));
    expect(r.errors).toEqual([]);
    expect(lines(r).filter((l) => l.includes('bastion'))).toEqual([
      'AWSClusterTemplate/quick-start spec.template.spec.bastion.enabled: not converted (clusterless has no equivalent)',
    ]);
  });

  it('names the settings of an AWSClusterTemplate no Cluster of the file uses, and converts the class alone', () => {
    const r = convert(fixture('clusterclass-v1beta1.yaml').filter((d) => d.kind !== 'Cluster'));
    expect(r.errors).toEqual([]);
    expect(lines(r)).toContain(
      'AWSClusterTemplate/quick-start spec.template.spec: not converted (no Cluster of the file uses its ClusterClass: clusterless keeps these settings on each Cluster)',
    );
    expect(r.objects.map((o) => o['kind'])).toEqual(['MachineClass', 'MachineClass', 'MachineClass', 'ClusterClass']);
  });

  it('drops variable schema keywords outside the supported subset, naming each, and keeps the rest', () => {
    const r = convert(
      classEdited('ClusterClass', 'quick-start', (d) => {
        d.spec.variables[0].schema.openAPIV3Schema['x-kubernetes-validations'] = [{ rule: 'self.startsWith("us-")' }];
        d.spec.variables[0].schema.openAPIV3Schema.format = 'hostname';
      }),
    );
    expect(r.errors).toEqual([]);
    expect(objectOf(r.objects, 'ClusterClass', 'quick-start').spec.variables[0].schema).toEqual({ openAPIV3Schema: { type: 'string', default: 'us-east-1' } });
    expect(lines(r)).toEqual(
      expect.arrayContaining([
        'ClusterClass/quick-start spec.variables[0].schema.openAPIV3Schema[x-kubernetes-validations][0]: not converted (clusterless has no equivalent)',
        'ClusterClass/quick-start spec.variables[0].schema.openAPIV3Schema.format: not converted (clusterless has no equivalent)',
      ]),
    );
  });

  it('names a Go-template patch value and an enabledIf it does not evaluate', () => {
    const r = convert(
      classEdited('ClusterClass', 'quick-start', (d) => {
        d.spec.patches[0].enabledIf = '{{ .enabled }}';
        d.spec.patches[1].definitions[0].jsonPatches[0].valueFrom = { template: '{{ .sshKeyName }}-x' };
      }),
    );
    expect(lines(r)).toEqual(
      expect.arrayContaining([
        'ClusterClass/quick-start spec.patches[0].enabledIf: not evaluated (Go templates): the patch was converted as if enabled',
        'ClusterClass/quick-start spec.patches[1].definitions[0].jsonPatches[0]: not converted (valueFrom.template is a Go template, which clusterless does not evaluate)',
      ]),
    );
    // The key name patch was not applied: no cluster gets one.
    expect(objectOf(r.objects, 'Cluster', 'classy').spec.provider.aws.sshKeyName).toBeUndefined();
  });

  it('renames the labels of objects a topology generated, so that the topology planner adopts them (topology.cluster.x-k8s.io/owned, deployment-name)', () => {
    const r = convert(
      edited('MachineDeployment', 'prod-md-0', (d) => {
        d.metadata.labels = { 'topology.cluster.x-k8s.io/owned': '', 'topology.cluster.x-k8s.io/deployment-name': 'md-0' };
      }),
    );
    expect(objectOf(r.objects, 'MachineDeployment', 'prod-md-0').metadata.labels).toEqual({
      'clusterless.dev/topology-owned': '',
      'clusterless.dev/topology-machine-deployment-name': 'md-0',
    });
  });

  it("names an override only where the pool's worker class has the patched MachineClass", () => {
    const r = convert(
      classEdited('Cluster', 'classy', (d) => {
        d.spec.topology.workers.machineDeployments[1].variables = { overrides: [{ name: 'workerMachineType', value: 'm7i.xlarge' }] };
      }),
    );
    expect(lines(r).filter((l) => l.includes('machineDeployments[1].variables'))).toEqual([]);
    expect(lines(r).filter((l) => l.includes('machineDeployments[0].variables'))).toHaveLength(1);
  });

  it("keeps a patch of a field clusterless's ControlPlane or MachineDeployment has as a clusterless patch: maxSurge, node taints", () => {
    const r = convert(
      classEdited('ClusterClass', 'quick-start', (d) => {
        d.spec.variables.push({ name: 'surge', required: false, schema: { openAPIV3Schema: { type: 'integer', default: 1 } } });
        d.spec.patches.push(
          {
            name: 'surge',
            definitions: [
              {
                selector: { apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1', kind: 'KubeadmControlPlaneTemplate', matchResources: { controlPlane: true } },
                jsonPatches: [{ op: 'add', path: '/spec/template/spec/rolloutStrategy/rollingUpdate/maxSurge', valueFrom: { variable: 'surge' } }],
              },
            ],
          },
          {
            name: 'dedicated',
            definitions: [
              {
                selector: {
                  apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
                  kind: 'KubeadmConfigTemplate',
                  matchResources: { machineDeploymentClass: { names: ['default-worker'] } },
                },
                jsonPatches: [
                  { op: 'add', path: '/spec/template/spec/joinConfiguration/nodeRegistration/taints', value: [{ key: 'dedicated', effect: 'NoSchedule' }] },
                ],
              },
            ],
          },
        );
      }),
    );
    expect(r.errors).toEqual([]);
    expect(objectOf(r.objects, 'ClusterClass', 'quick-start').spec.patches).toEqual([
      {
        name: 'surge',
        definitions: [
          {
            selector: { kind: 'ControlPlane', matchResources: { controlPlane: true } },
            jsonPatches: [{ op: 'add', path: '/spec/rollout/maxSurge', valueFrom: { variable: 'surge' } }],
          },
        ],
      },
      {
        name: 'dedicated',
        definitions: [
          {
            selector: { kind: 'MachineDeployment', matchResources: { machineDeploymentClass: { names: ['default-worker'] } } },
            jsonPatches: [{ op: 'add', path: '/spec/template/spec/taints', value: [{ key: 'dedicated', effect: 'NoSchedule' }] }],
          },
        ],
      },
    ]);
    expect(lines(r).filter((l) => l.includes('spec.patches[4]') || l.includes('spec.patches[5]'))).toEqual([]);
  });

  it('refuses a topology whose class is not in the file, or in another namespace', () => {
    const missing = convert(fixture('clusterclass-v1beta1.yaml').filter((d) => d.metadata.name !== 'classy-west' && d.kind !== 'ClusterClass'));
    expect(missing.objects).toEqual([]);
    expect(missing.errors.map(formatIssue)).toContain(
      'Cluster/classy spec.topology.class: ClusterClass/quick-start is not in the file (its templates make the cluster)',
    );
    const elsewhere = convert(classEdited('Cluster', 'classy', (d) => (d.spec.topology.classNamespace = 'shared')));
    expect(elsewhere.errors.map(formatIssue)).toContain(
      'Cluster/classy spec.topology.classNamespace: Unsupported value: "shared": clusterless takes a ClusterClass of the Cluster\'s own namespace',
    );
  });

  it('refuses an AWSClusterTemplate without existing subnets, naming the cluster it was read for', () => {
    const r = convert(classEdited('AWSClusterTemplate', 'quick-start', (d) => delete d.spec.template.spec.network));
    expect(r.errors.map(formatIssue)).toContain(
      'AWSClusterTemplate/quick-start spec.template.spec.network.subnets: clusterless does not create a VPC: name the existing subnets, one per availability zone, each with id and availabilityZone (for Cluster/classy)',
    );
  });

  it('refuses a converted class the API would refuse, naming the field', () => {
    const r = convert(classEdited('ClusterClass', 'quick-start', (d) => (d.spec.workers.machineDeployments[1].class = 'default-worker')));
    expect(r.objects).toEqual([]);
    expect(r.errors.map(formatIssue)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ClusterClass\/quick-start spec\.workers\.machineDeployments\[1\]\.class: .*unique/)]),
    );
  });
});
