import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { validateCreate } from '../../../functions/api/validate.js';
import { UsageError } from '../../../cli/errors.js';
import type { ClusterClass } from '../../../functions/api/cluster-class.js';
import type { Cluster } from '../../../functions/api/cluster.js';
import { desiredMachineDeployment } from '../../../functions/core/topology/index.js';
import { PLACEHOLDER, generateCluster, generateClusterClass, renderGenerated } from '../../../cli/commands/generate.js';

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

describe('generate clusterclass', () => {
  const g = generateClusterClass('standard', { provider: 'aws', awsInstanceType: ['m7i.xlarge'], controlPlaneMachineCount: '3' });
  const [cpClass, workerClass, cc] = g.objects as any[];

  it('makes the control-plane and worker MachineClasses and the ClusterClass naming them, in that order', () => {
    expect(g.objects.map((o) => `${o['kind']}/${(o['metadata'] as any).name}`)).toEqual([
      'MachineClass/standard-control-plane',
      'MachineClass/standard-worker',
      'ClusterClass/standard',
    ]);
    expect(cpClass.spec.aws.instanceTypes).toEqual(['m7i.xlarge']);
    expect(workerClass.spec).toEqual(cpClass.spec);
    expect(cc.spec.controlPlane).toEqual({ machineClassRef: { name: 'standard-control-plane' }, replicas: 3 });
    expect(cc.spec.workers.machineDeployments).toHaveLength(1);
    expect(cc.spec.workers.machineDeployments[0]).toMatchObject({
      class: 'default-worker',
      template: { machineClassRef: { name: 'standard-worker' } },
      machineHealthCheck: { maxUnhealthy: '40%', nodeStartupTimeout: '10m' },
    });
  });

  it.each(['sim', 'aws', 'process'])('writes objects the API validates as they are (%s)', (provider) => {
    for (const doc of docsOf(renderGenerated(generateClusterClass('standard', { provider }), ' header'))) {
      const v = validateCreate(doc);
      expect(v.ok ? [] : v.causes, doc['kind']).toEqual([]);
    }
  });

  it('declares the worker MachineClass as a variable, defaulting to the generated one, and a patch that uses it', () => {
    expect(cc.spec.variables).toEqual([
      { name: 'workerMachineClass', required: false, schema: { openAPIV3Schema: expect.objectContaining({ type: 'string', default: 'standard-worker' }) } },
    ]);
    expect(cc.spec.patches).toEqual([
      {
        name: 'worker-machine-class',
        definitions: [
          {
            selector: { kind: 'MachineDeployment', matchResources: { machineDeploymentClass: { names: ['default-worker'] } } },
            jsonPatches: [{ op: 'replace', path: '/spec/template/spec/machineClassRef/name', valueFrom: { variable: 'workerMachineClass' } }],
          },
        ],
      },
    ]);
  });

  it("lets a cluster pick its workers' MachineClass by the variable: the topology planner's MachineDeployment names it", () => {
    const parsed = (o: unknown): any => {
      const v = validateCreate(o);
      if (!v.ok) throw new Error(JSON.stringify(v.causes));
      return v.object;
    };
    const cc = parsed(generateClusterClass('standard', {}).objects[2]) as ClusterClass;
    const clusterOf = (variables?: object[]) => {
      const c = generateCluster('demo', { class: 'standard', version: 'v1.31.2', workers: '1' }).objects[0] as any;
      if (variables) c.spec.topology.variables = variables;
      return parsed(c) as Cluster;
    };
    const workerClass = (cluster: Cluster) => {
      const md = desiredMachineDeployment(
        cluster,
        cc,
        cluster.spec.topology!.workers!.machineDeployments![0]!,
        cc.spec.workers.machineDeployments[0]!,
        'v1.31.2',
        false,
      );
      if (!md.ok) throw new Error(md.error);
      return (md.object as any).spec.template.spec.machineClassRef.name;
    };
    expect(workerClass(clusterOf())).toBe('standard-worker');
    expect(workerClass(clusterOf([{ name: 'workerMachineClass', value: 'standard-worker-large' }]))).toBe('standard-worker-large');
  });

  it('gives a process class three control-plane machines and a control-plane health check that remediates one at a time', () => {
    const p = generateClusterClass('real', { provider: 'process' });
    const spec = (p.objects[2] as any).spec;
    expect(spec.controlPlane.replicas).toBe(3);
    expect(spec.controlPlane.machineHealthCheck.maxUnhealthy).toBe(1);
    expect((p.objects[0] as any).spec).toEqual({ process: {} });
  });

  it.each([
    { flag: '--kubernetes-version', options: { kubernetesVersion: 'v1.31.2' } },
    { flag: '--workers', options: { workers: '2' } },
    { flag: '--aws-region', options: { provider: 'aws', awsRegion: 'eu-west-1' } },
    { flag: '--class', options: { class: 'x' } },
  ])('refuses $flag, which describes one cluster, not a class', ({ flag, options }) => {
    expect(() => generateClusterClass('standard', options)).toThrow(UsageError);
    expect(() => generateClusterClass('standard', options)).toThrow(`${flag} is for generate cluster`);
  });

  it('refuses an even control plane and a bad name', () => {
    expect(() => generateClusterClass('standard', { controlPlaneMachineCount: '2' })).toThrow(/must be odd/);
    expect(() => generateClusterClass('Standard', {})).toThrow(/invalid ClusterClass name/);
  });
});

describe('generate cluster --class', () => {
  it('makes a Cluster with spec.topology and nothing else', () => {
    const g = generateCluster('demo', { class: 'standard', version: '1.31.2', workers: '3' });
    expect(g.objects).toEqual([
      {
        apiVersion: 'clusterless.dev/v1alpha1',
        kind: 'Cluster',
        metadata: { name: 'demo', namespace: 'default' },
        spec: {
          provider: { sim: { failureDomains: ['zone-a', 'zone-b', 'zone-c'] } },
          topology: { class: 'standard', version: 'v1.31.2', workers: { machineDeployments: [{ class: 'default-worker', name: 'md-0', replicas: 3 }] } },
        },
      },
    ]);
  });

  it('writes a Cluster the API validates as it is, for each provider given its values', () => {
    for (const o of [{}, { provider: 'process' }, { provider: 'aws', awsRegion: 'eu-west-1', awsSubnet: ['subnet-0123456789abcdef0:eu-west-1a'] }]) {
      const [doc] = docsOf(renderGenerated(generateCluster('demo', { class: 'standard', version: 'v1.31.2', workers: '2', ...o }), ' h'));
      const v = validateCreate(doc);
      expect(v.ok ? [] : v.causes, JSON.stringify(o)).toEqual([]);
    }
  });

  it('sets the control-plane replicas only when asked, leaving the class its default', () => {
    const topology = (o: object) => (generateCluster('demo', { class: 'standard', kubernetesVersion: 'v1.31.2', ...o }).objects[0] as any).spec.topology;
    expect(topology({}).controlPlane).toBeUndefined();
    expect(topology({ controlPlaneMachineCount: '5' }).controlPlane).toEqual({ replicas: 5 });
    expect(topology({ workerMachineCount: '2' }).workers.machineDeployments[0].replicas).toBe(2);
  });

  it('writes the aws cluster settings with their placeholders, on the Cluster (the first document)', () => {
    const g = generateCluster('prod', { class: 'standard', version: 'v1.31.2', provider: 'aws' });
    const yaml = renderGenerated(g, ' h');
    expect(yaml).toMatch(/region: REPLACE-ME # REPLACE-ME: the AWS region/);
    expect(yaml).toMatch(/id: subnet-REPLACE-ME # REPLACE-ME: a subnet id/);
  });

  it('wires addon files in as generate cluster does', () => {
    const g = generateCluster('demo', { class: 'standard', version: 'v1.31.2' }, [
      { path: 'cni.yaml', manifests: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cni\n' },
    ]);
    expect(g.objects.map((o) => o['kind'])).toEqual(['Cluster', 'ClusterResourceSet']);
    expect((g.objects[0] as any).metadata.labels).toEqual({ 'clusterless.dev/cluster-resource-set': 'demo-addons' });
  });

  it.each([
    {
      name: 'a machine flag (the class has the machines)',
      options: { awsInstanceType: ['m7i.large'] },
      want: /--aws-instance-type is for generate clusterclass/,
    },
    { name: 'no version', options: { version: undefined }, want: /--kubernetes-version is required/ },
    { name: 'two different versions', options: { kubernetesVersion: 'v1.31.1' }, want: /not both/ },
    { name: 'a bad class name', options: { class: 'Standard' }, want: /invalid --class/ },
    { name: 'a negative worker count', options: { workers: '-1' }, want: /--workers must be an integer/ },
  ])('refuses $name', ({ options, want }) => {
    expect(() => generateCluster('demo', { class: 'standard', version: 'v1.31.2', ...options })).toThrow(want);
  });
});
