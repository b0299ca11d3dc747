import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { validateCreate } from '../../../functions/api/validate.js';
import { UsageError } from '../../../cli/errors.js';
import { PLACEHOLDER, generateCluster, renderGenerated } from '../../../cli/commands/generate.js';

const docsOf = (yaml: string) => parseAllDocuments(yaml).map((d) => (Array.isArray(d) ? undefined : d.toJS()) as Record<string, any>);

describe('generate cluster', () => {
  const sim = generateCluster('demo', { kubernetesVersion: 'v1.31.2', controlPlaneMachineCount: '3', workerMachineCount: '2' });

  it('makes a MachineClass, Cluster, ControlPlane, MachineDeployment and MachineHealthCheck, in that order', () => {
    expect(sim.objects.map((o) => o['kind'])).toEqual(['MachineClass', 'Cluster', 'ControlPlane', 'MachineDeployment', 'MachineHealthCheck']);
    const [, , cp, md] = sim.objects as any[];
    expect(cp.spec).toMatchObject({ clusterName: 'demo', replicas: 3, version: 'v1.31.2', machineClassRef: { name: 'demo' } });
    expect(md.spec).toMatchObject({ clusterName: 'demo', replicas: 2, template: { spec: { version: 'v1.31.2' } } });
  });

  it('writes objects the API validates as they are', () => {
    for (const doc of docsOf(renderGenerated(sim, ' header'))) {
      const v = validateCreate(doc);
      expect(v.ok ? [] : v.causes, doc['kind']).toEqual([]);
    }
  });

  it('makes a process cluster: its load balancer, 3 control-plane machines, 2 workers and a health check for each, all valid', () => {
    const p = generateCluster('real', { kubernetesVersion: 'v1.34.1', provider: 'process' });
    expect(p.objects.map((o) => o['kind'])).toEqual([
      'MachineClass',
      'Cluster',
      'ControlPlane',
      'MachineDeployment',
      'MachineHealthCheck',
      'MachineHealthCheck',
    ]);
    const [mc, cluster, cp, md, , cpCheck] = p.objects as any[];
    expect(mc.spec).toEqual({ process: {} });
    expect(cluster.spec).toEqual({ provider: { process: { controlPlaneLoadBalancer: {} } } });
    expect(cp.spec.replicas).toBe(3);
    expect(md.spec.replicas).toBe(2);
    expect(cpCheck.spec.selector.matchLabels).toEqual({ 'clusterless.dev/cluster-name': 'real', 'clusterless.dev/control-plane': '' });
    for (const doc of docsOf(renderGenerated(p, ' header'))) {
      const v = validateCreate(doc);
      expect(v.ok ? [] : v.causes, doc['kind']).toEqual([]);
    }
  });

  it('wires addon files in: one ClusterResourceSet of them, in their order, selecting the Cluster by a label it carries', () => {
    const cni = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cni\n';
    const p = generateCluster('real', { kubernetesVersion: 'v1.34.1', provider: 'process' }, [
      { path: 'addons/Calico.yaml', manifests: cni },
      { path: 'more/calico.yml', manifests: cni },
    ]);
    const cluster = p.objects.find((o) => o['kind'] === 'Cluster') as any;
    const set = p.objects.find((o) => o['kind'] === 'ClusterResourceSet') as any;
    expect(cluster.metadata.labels).toEqual({ 'clusterless.dev/cluster-resource-set': 'real-addons' });
    expect(set.metadata).toEqual({ name: 'real-addons', namespace: 'default' });
    expect(set.spec.clusterSelector).toEqual({ matchLabels: { 'clusterless.dev/cluster-resource-set': 'real-addons' } });
    expect(set.spec.resources).toEqual([
      { name: 'calico', manifests: cni },
      { name: 'calico-2', manifests: cni },
    ]);
    for (const doc of docsOf(renderGenerated(p, ' header'))) {
      const v = validateCreate(doc);
      expect(v.ok ? [] : v.causes, doc['kind']).toEqual([]);
    }
  });

  it('refuses an addon file that is not YAML manifests, naming the file', () => {
    expect(() => generateCluster('real', { kubernetesVersion: 'v1.34.1' }, [{ path: 'cni.yaml', manifests: 'kind: [' }])).toThrow(/--addon cni\.yaml: /);
  });

  it('opens with a comment saying how it was made and how to apply it', () => {
    expect(renderGenerated(sim, ' made by clusterless')).toMatch(/^# made by clusterless\n/);
  });

  it('marks every aws value only the user knows with a REPLACE-ME comment on its line', () => {
    const aws = generateCluster('prod', { kubernetesVersion: 'v1.31.2', provider: 'aws' });
    const yaml = renderGenerated(aws, ' h');
    expect(yaml).toMatch(/region: REPLACE-ME # REPLACE-ME: the AWS region/);
    expect(yaml).toMatch(/id: subnet-REPLACE-ME # REPLACE-ME: a subnet id/);
    expect(yaml).toMatch(/availabilityZone: REPLACE-ME # REPLACE-ME: the availability zone/);
    // Left unfilled, the API names the fields to fill in rather than accepting a half-made cluster.
    const cluster = docsOf(yaml)[1]!;
    const v = validateCreate(cluster);
    expect(v.ok).toBe(false);
    expect(!v.ok && v.causes.map((c) => c.field)).toEqual(expect.arrayContaining(['spec.provider.aws.region', 'spec.provider.aws.subnets[0].id']));
  });

  it('needs no placeholder when the aws flags give the values, and the API accepts the result', () => {
    const aws = generateCluster('prod', {
      kubernetesVersion: 'v1.31.2',
      provider: 'aws',
      awsRegion: 'eu-west-1',
      awsSubnet: ['subnet-0123456789abcdef0:eu-west-1a', 'subnet-0123456789abcdef1:eu-west-1b'],
      awsSecurityGroupId: ['sg-0123456789abcdef0'],
      awsInstanceType: ['m7g.large', 'm6g.large'],
      awsAmi: 'ami-0123456789abcdef0',
      awsControlPlaneEndpoint: 'prod-api.example.com',
      awsTargetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/prod-api/0123456789abcdef',
    });
    expect(aws.placeholders).toEqual([]);
    expect((aws.objects[1] as any).spec).toMatchObject({
      controlPlaneEndpoint: { host: 'prod-api.example.com', port: 6443 },
      provider: {
        aws: { controlPlaneLoadBalancer: { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/prod-api/0123456789abcdef' } },
      },
    });
    const yaml = renderGenerated(aws, ' h');
    expect(yaml).not.toContain(PLACEHOLDER);
    for (const doc of docsOf(yaml)) {
      const v = validateCreate(doc);
      expect(v.ok ? [] : v.causes, doc['kind']).toEqual([]);
    }
  });

  it("lets clusterless make an internal load balancer unless the flags name the user's", () => {
    const base = { kubernetesVersion: 'v1.31.2', provider: 'aws', awsRegion: 'eu-west-1', awsSubnet: ['subnet-0123456789abcdef0:eu-west-1a'] };
    const cluster = (o: object) => (generateCluster('prod', { ...base, ...o }).objects[1] as any).spec;
    expect(cluster({})).toMatchObject({ provider: { aws: { controlPlaneLoadBalancer: { scheme: 'internal' } } } });
    expect(cluster({}).controlPlaneEndpoint).toBeUndefined();
    expect(cluster({ awsControlPlaneEndpoint: 'api.example.com' }).provider.aws.controlPlaneLoadBalancer).toBeUndefined();
    const v = validateCreate({ ...(generateCluster('prod', base).objects[1] as object) });
    expect(v.ok ? [] : v.causes).toEqual([]);
  });

  it('takes 1.31.2 as v1.31.2', () => {
    const g = generateCluster('demo', { kubernetesVersion: '1.31.2' });
    expect((g.objects[2] as any).spec.version).toBe('v1.31.2');
  });

  it.each([
    { name: 'an even control plane', options: { kubernetesVersion: 'v1.31.2', controlPlaneMachineCount: '2' }, want: /must be odd/ },
    { name: 'no version', options: {}, want: /--kubernetes-version is required/ },
    { name: 'a bad version', options: { kubernetesVersion: 'latest' }, want: /not a Kubernetes version/ },
    { name: 'a negative worker count', options: { kubernetesVersion: 'v1.31.2', workerMachineCount: '-1' }, want: /--worker-machine-count must be an integer/ },
    {
      name: 'a malformed endpoint',
      options: { kubernetesVersion: 'v1.31.2', provider: 'aws', awsControlPlaneEndpoint: 'https://api:6443' },
      want: /HOST or HOST:PORT/,
    },
    {
      name: 'an endpoint port out of range',
      options: { kubernetesVersion: 'v1.31.2', provider: 'aws', awsControlPlaneEndpoint: 'api.test:70000' },
      want: /HOST or HOST:PORT/,
    },
    {
      name: 'a target group that is not an ARN',
      options: { kubernetesVersion: 'v1.31.2', provider: 'aws', awsTargetGroupArn: 'prod-api' },
      want: /must be the ARN/,
    },
    { name: 'aws flags for the simulator', options: { kubernetesVersion: 'v1.31.2', awsControlPlaneEndpoint: 'api.test' }, want: /for --provider aws/ },
    {
      name: 'a malformed subnet flag',
      options: { kubernetesVersion: 'v1.31.2', provider: 'aws', awsSubnet: ['subnet-1'] },
      want: /SUBNET_ID:AVAILABILITY_ZONE/,
    },
  ])('refuses $name as a usage error', ({ options, want }) => {
    expect(() => generateCluster('demo', options)).toThrow(UsageError);
    expect(() => generateCluster('demo', options)).toThrow(want);
  });

  it('refuses a name that would make an invalid control-plane name', () => {
    expect(() => generateCluster('a'.repeat(50), { kubernetesVersion: 'v1.31.2' })).toThrow(/too long/);
    expect(() => generateCluster('Demo', { kubernetesVersion: 'v1.31.2' })).toThrow(/invalid cluster name/);
  });
});
