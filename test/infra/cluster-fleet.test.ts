/** The fleet template, the ClusterFleet construct and the example fleet stack. */
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { Labels } from '../../functions/api/common.js';
import { validateCreate } from '../../functions/api/validate.js';
import { ClusterFleet, InvalidFleetError } from '../../infra/constructs/cluster-fleet.js';
import {
  type ClusterClassProps,
  type FleetCluster,
  type FleetTopologyCluster,
  type Manifest,
  fleetManifests,
  machineClassName,
} from '../../infra/constructs/fleet-template.js';
import { PLACEHOLDER_SUBNETS } from '../../examples/fleet/fleet-stack.js';
import { newApp } from './support.js';

const cluster: FleetCluster = {
  name: 'blue',
  kubernetesVersion: 'v1.34.1',
  provider: { sim: {} },
  machineClass: { sim: { bootSeconds: 1 } },
  controlPlane: { replicas: 3 },
  workers: [
    { name: 'general', replicas: 2 },
    { name: 'big', replicas: 1, machineClass: { sim: { bootSeconds: 2 } } },
  ],
};

const keys = (objects: readonly Record<string, unknown>[]) => objects.map((o) => `${String(o['kind'])}/${(o['metadata'] as { name: string }).name}`);

const BLUE_CLASS = machineClassName('blue', cluster.machineClass);
const BIG_CLASS = machineClassName('blue-big', cluster.workers![1]!.machineClass!);
const classRef = (o: Manifest) =>
  o.kind === 'ControlPlane' ? o.spec['machineClassRef'] : (o.spec['template'] as { spec: { machineClassRef: unknown } }).spec.machineClassRef;
/** Each ControlPlane's and MachineDeployment's class, by its name. */
const refs = (objects: readonly Manifest[]) =>
  Object.fromEntries(objects.filter((o) => o.kind === 'ControlPlane' || o.kind === 'MachineDeployment').map((o) => [o.metadata.name, classRef(o)]));

describe('fleetManifests', () => {
  it('expands a cluster into its classes, Cluster, ControlPlane, a MachineDeployment and a MachineHealthCheck per pool', () => {
    expect(keys(fleetManifests([cluster]))).toEqual([
      `MachineClass/${BLUE_CLASS}`,
      `MachineClass/${BIG_CLASS}`,
      'Cluster/blue',
      'ControlPlane/blue-control-plane',
      'MachineDeployment/blue-general',
      'MachineDeployment/blue-big',
      'MachineHealthCheck/blue-general',
      'MachineHealthCheck/blue-big',
    ]);
  });

  it('makes objects the API accepts', () => {
    for (const m of fleetManifests([cluster])) expect(validateCreate(m).ok, JSON.stringify(m)).toBe(true);
  });

  it('points each pool at its class and health-checks only that pool', () => {
    const objects = fleetManifests([cluster]);
    const big = objects.find((o) => o.kind === 'MachineDeployment' && o.metadata.name === 'blue-big')!;
    expect((big.spec['template'] as { spec: { machineClassRef: { name: string } } }).spec.machineClassRef).toEqual({ name: BIG_CLASS });
    const check = objects.find((o) => o.kind === 'MachineHealthCheck' && o.metadata.name === 'blue-big')!;
    expect(check.spec['selector']).toEqual({ matchLabels: { [Labels.clusterName]: 'blue', [Labels.deploymentName]: 'blue-big' } });
  });

  it('names each class after its base and its content, and points the ControlPlane and MachineDeployments at it', () => {
    expect(BLUE_CLASS).toMatch(/^blue-[bcdfghjklmnpqrstvwxz2456789]{10}$/);
    expect(BIG_CLASS).toMatch(/^blue-big-[bcdfghjklmnpqrstvwxz2456789]{10}$/);
    const own = fleetManifests([{ ...cluster, controlPlane: { replicas: 3, machineClass: { sim: { bootSeconds: 3 } } } }]);
    const cpClass = machineClassName('blue-control-plane', { sim: { bootSeconds: 3 } });
    expect(cpClass).toMatch(/^blue-control-plane-[a-z0-9]{10}$/);
    expect(refs(own)).toEqual({ 'blue-control-plane': { name: cpClass }, 'blue-general': { name: BLUE_CLASS }, 'blue-big': { name: BIG_CLASS } });
    expect(own.filter((o) => o.kind === 'MachineClass').map((o) => o.metadata.name)).toEqual([BLUE_CLASS, cpClass, BIG_CLASS]);
  });

  it('keeps every name when nothing changes, or only key order, a default spelled out, labels or replicas', () => {
    const before = fleetManifests([cluster]);
    const same = fleetManifests([
      {
        ...cluster,
        labels: { team: 'a' },
        controlPlane: { replicas: 5 },
        // The sim provider's defaults written out: the class the API stores is the same.
        machineClass: { sim: { nodeReadySeconds: 2, bootSeconds: 1, failureRate: 0 } },
        workers: [{ name: 'general', replicas: 7 }, cluster.workers![1]!],
      },
    ]);
    expect(keys(same)).toEqual(keys(before));
    expect(refs(same)).toEqual(refs(before));
  });

  it('names a changed class anew and moves only the references to it (a rollout of those machines)', () => {
    const before = refs(fleetManifests([cluster]));
    const bigger = fleetManifests([{ ...cluster, machineClass: { sim: { bootSeconds: 9 } } }]);
    const blue = machineClassName('blue', { sim: { bootSeconds: 9 } });
    expect(blue).not.toBe(BLUE_CLASS);
    expect(refs(bigger)).toEqual({ ...before, 'blue-control-plane': { name: blue }, 'blue-general': { name: blue } });
    const bigChanged = fleetManifests([
      { ...cluster, workers: [cluster.workers![0]!, { name: 'big', replicas: 1, machineClass: { sim: { bootSeconds: 3 } } }] },
    ]);
    expect(refs(bigChanged)).toEqual({ ...before, 'blue-big': { name: machineClassName('blue-big', { sim: { bootSeconds: 3 } }) } });
    expect(refs(bigChanged)['blue-big']).not.toEqual(before['blue-big']);
  });

  it('gives pools of one spec but different bases different classes, and cuts a long base to a 63-character label', () => {
    // Two bases cut to the same 52 characters keep distinct names: the whole base is hashed.
    expect(machineClassName(`${'x'.repeat(60)}-a`, { sim: {} })).not.toBe(machineClassName(`${'x'.repeat(60)}-b`, { sim: {} }));
    const long = 'c'.repeat(40);
    const objects = fleetManifests([{ ...cluster, name: long, workers: [{ name: 'p'.repeat(22), replicas: 1, machineClass: { sim: {} } }] }]);
    for (const m of objects.filter((o) => o.kind === 'MachineClass')) {
      expect(m.metadata.name.length).toBeLessThanOrEqual(63);
      expect(m.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    for (const m of objects) expect(validateCreate(m).ok, JSON.stringify(m)).toBe(true);
  });

  it('leaves the health checks out when asked', () => {
    expect(keys(fleetManifests([{ ...cluster, healthCheck: false }])).filter((k) => k.startsWith('MachineHealthCheck'))).toEqual([]);
  });

  it('puts the namespace and the cluster label on every object', () => {
    for (const m of fleetManifests([{ ...cluster, namespace: 'team-a', labels: { env: 'prod' } }]))
      expect(m.metadata).toMatchObject({ namespace: 'team-a', labels: { env: 'prod', [Labels.clusterName]: 'blue' } });
  });
});

describe('ClusterFleet', () => {
  const token = 'arn:aws:lambda:us-east-1:123456789012:function:fleet-provider';

  it('is a custom resource of the control plane provider, with the manifests as one JSON property', () => {
    const stack = new Stack();
    const fleet = new ClusterFleet(stack, 'Fleet', { controlPlane: { fleetServiceToken: token }, clusters: [cluster], fleetName: 'blue-fleet' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::ClusterlessFleet', { ServiceToken: token, FleetName: 'blue-fleet', Manifests: JSON.stringify(fleet.manifests) });
    expect(JSON.parse(JSON.stringify(fleet.manifests))).toHaveLength(8);
  });

  it('takes further manifests as they are', () => {
    const stack = new Stack();
    const extra = { apiVersion: 'clusterless.dev/v1alpha1', kind: 'MachineClass', metadata: { name: 'shared' }, spec: { sim: {} } };
    const fleet = new ClusterFleet(stack, 'Fleet', { controlPlane: { fleetServiceToken: token }, manifests: [extra] });
    expect(fleet.manifests).toEqual([extra]);
  });

  it('names the fleet uniquely in the app by default', () => {
    const stack = new Stack();
    new ClusterFleet(stack, 'One', { controlPlane: { fleetServiceToken: token } });
    new ClusterFleet(stack, 'Two', { controlPlane: { fleetServiceToken: token } });
    const names = Object.values(Template.fromStack(stack).findResources('Custom::ClusterlessFleet')).map(
      (r) => (r as { Properties: { FleetName: string } }).Properties.FleetName,
    );
    expect(new Set(names).size).toBe(2);
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/);
  });

  it("fails at synth time, with the API's reasons, for a fleet the API would refuse", () => {
    const stack = new Stack();
    const bad = { ...cluster, controlPlane: { replicas: 2 }, kubernetesVersion: '1.34' };
    expect(() => new ClusterFleet(stack, 'Fleet', { controlPlane: { fleetServiceToken: token }, clusters: [bad] })).toThrow(InvalidFleetError);
    expect(() => new ClusterFleet(stack, 'Fleet2', { controlPlane: { fleetServiceToken: token }, clusters: [bad] })).toThrow(/spec\.replicas: .*odd/);
  });

  it('refuses an object declared twice', () => {
    const stack = new Stack();
    expect(() => new ClusterFleet(stack, 'Fleet', { controlPlane: { fleetServiceToken: token }, clusters: [cluster, cluster] })).toThrow(/declared twice/);
  });
});

const standard: ClusterClassProps = {
  controlPlane: { machineClass: { sim: { bootSeconds: 1 } }, replicas: 3 },
  workers: [
    { class: 'general', machineClass: { sim: { bootSeconds: 1 } }, minReadySeconds: 10 },
    { class: 'gpu', machineClass: { sim: { bootSeconds: 2 } }, taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }], healthCheck: false },
  ],
  variables: [{ name: 'generalClass', schema: { openAPIV3Schema: { type: 'string', default: 'x' } } }],
  patches: [
    {
      name: 'general-class',
      definitions: [
        {
          selector: { kind: 'MachineDeployment', matchResources: { machineDeploymentClass: { names: ['general'] } } },
          jsonPatches: [{ op: 'replace', path: '/spec/template/spec/machineClassRef/name', valueFrom: { variable: 'generalClass' } }],
        },
      ],
    },
  ],
};
const green: FleetTopologyCluster = {
  name: 'green',
  class: 'standard',
  version: 'v1.34.1',
  provider: { sim: {} },
  workers: [
    { name: 'md-0', class: 'general', replicas: 2, variables: { generalClass: 'big' } },
    { name: 'md-1', class: 'gpu', replicas: 1, failureDomain: 'zone-a' },
  ],
  variables: { generalClass: 'small' },
};
const CP_CLASS = machineClassName('standard-control-plane', standard.controlPlane.machineClass);
const GENERAL_CLASS = machineClassName('standard-general', standard.workers![0]!.machineClass);
const GPU_CLASS = machineClassName('standard-gpu', standard.workers![1]!.machineClass);
const specOf = (objects: readonly Manifest[], kind: string, name: string): any => objects.find((o) => o.kind === kind && o.metadata.name === name)!.spec;

describe('fleetManifests by class', () => {
  const objects = fleetManifests([green, cluster], { standard });

  it('expands a class into its content-named MachineClasses and a ClusterClass, before the clusters; a class cluster into one Cluster', () => {
    expect(keys(objects)).toEqual([
      `MachineClass/${CP_CLASS}`,
      `MachineClass/${GENERAL_CLASS}`,
      `MachineClass/${GPU_CLASS}`,
      'ClusterClass/standard',
      'Cluster/green',
      ...keys(fleetManifests([cluster])),
    ]);
  });

  it('makes objects the API accepts', () => {
    for (const m of objects) {
      const v = validateCreate(m);
      expect(v.ok ? [] : v.causes, `${m.kind}/${m.metadata.name}`).toEqual([]);
    }
  });

  it('writes the ClusterClass in the contract shape: class references, taints, health checks unless turned off, variables and patches', () => {
    expect(specOf(objects, 'ClusterClass', 'standard')).toEqual({
      controlPlane: { machineClassRef: { name: CP_CLASS }, replicas: 3 },
      workers: {
        machineDeployments: [
          {
            class: 'general',
            template: { machineClassRef: { name: GENERAL_CLASS } },
            minReadySeconds: 10,
            machineHealthCheck: {
              unhealthyConditions: [
                { type: 'Ready', status: 'Unknown', timeout: '300s' },
                { type: 'Ready', status: 'False', timeout: '300s' },
              ],
              nodeStartupTimeout: '10m',
              maxUnhealthy: '40%',
            },
          },
          { class: 'gpu', template: { machineClassRef: { name: GPU_CLASS }, taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }] } },
        ],
      },
      variables: standard.variables,
      patches: standard.patches,
    });
  });

  it('writes a class cluster as a Cluster with spec.topology only: version, workers, variables as name/value lists', () => {
    expect(specOf(objects, 'Cluster', 'green')).toEqual({
      provider: { sim: {} },
      topology: {
        class: 'standard',
        version: 'v1.34.1',
        workers: {
          machineDeployments: [
            { class: 'general', name: 'md-0', replicas: 2, variables: { overrides: [{ name: 'generalClass', value: 'big' }] } },
            { class: 'gpu', name: 'md-1', replicas: 1, failureDomain: 'zone-a' },
          ],
        },
        variables: [{ name: 'generalClass', value: 'small' }],
      },
    });
    expect(objects.find((o) => o.metadata.name === 'green')!.metadata.labels).toEqual({ [Labels.clusterName]: 'green' });
  });

  it('names a changed worker class anew, so the ClusterClass changes and its clusters roll; the others keep their names', () => {
    const changed = fleetManifests([green], {
      standard: { ...standard, workers: [{ ...standard.workers![0]!, machineClass: { sim: { bootSeconds: 5 } } }, standard.workers![1]!] },
    });
    const names = changed.filter((o) => o.kind === 'MachineClass').map((o) => o.metadata.name);
    expect(names).toEqual([CP_CLASS, machineClassName('standard-general', { sim: { bootSeconds: 5 } }), GPU_CLASS]);
    expect(names[1]).not.toBe(GENERAL_CLASS);
  });
});

describe('ClusterFleet by class', () => {
  const token = 'arn:aws:lambda:us-east-1:123456789012:function:fleet-provider';

  it('puts the classes and the class clusters in the custom resource, next to the explicit clusters', () => {
    const stack = new Stack();
    const fleet = new ClusterFleet(stack, 'Fleet', { controlPlane: { fleetServiceToken: token }, classes: { standard }, clusters: [green, cluster] });
    expect(keys(fleet.manifests)).toEqual(keys(fleetManifests([green, cluster], { standard })));
    Template.fromStack(stack).hasResourceProperties('Custom::ClusterlessFleet', { Manifests: JSON.stringify(fleet.manifests) });
  });

  it("refuses at synth time, with the API's admission reasons, a worker class, a variable or a value the declared class does not allow", () => {
    const stack = new Stack();
    const bad: FleetTopologyCluster = { ...green, workers: [{ name: 'md-0', class: 'tiny', replicas: 1 }], variables: { nope: 1, generalClass: 7 } };
    const make = (id: string) => new ClusterFleet(stack, id, { controlPlane: { fleetServiceToken: token }, classes: { standard }, clusters: [bad] });
    expect(() => make('A')).toThrow(InvalidFleetError);
    expect(() => make('B')).toThrow(
      /spec\.topology\.workers\.machineDeployments\[0\]\.class: Invalid value: "tiny": the ClusterClass standard has no such worker class/,
    );
    expect(() => make('C')).toThrow(/spec\.topology\.variables\[0\]\.name: Invalid value: "nope": the ClusterClass standard declares no such variable/);
    expect(() => make('D')).toThrow(/spec\.topology\.variables\[1\]\.value: Invalid value: 7: must be of type string/);
  });

  it('warns, without refusing, about a class the fleet does not declare (it may exist already)', () => {
    const stack = new Stack();
    new ClusterFleet(stack, 'Fleet', { controlPlane: { fleetServiceToken: token }, clusters: [{ ...green, class: 'elsewhere' }] });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('names ClusterClass elsewhere, which this fleet does not declare'));
    expect(warnings).toHaveLength(1);
  });
});

describe('the example fleet stack (-c fleet=example)', () => {
  it("applies two aws clusters through the control plane stack's provider", () => {
    const { fleet, controlPlane } = newApp({ context: { fleet: 'example' } });
    const template = Template.fromStack(fleet!);
    const resource = Object.values(template.findResources('Custom::ClusterlessFleet'))[0] as { Properties: { ServiceToken: unknown; Manifests: string } };
    // A weak cross-stack reference (cdk.json @aws-cdk/core:defaultCrossStackReferences): an output of the control plane stack.
    expect(resource.Properties.ServiceToken).toMatchObject({ 'Fn::GetStackOutput': { StackName: controlPlane.stackName } });
    expect(fleet!.dependencies).toContain(controlPlane);
    const clusters = (
      JSON.parse(resource.Properties.Manifests) as { kind: string; metadata: { name: string }; spec: { provider: { aws?: unknown } } }[]
    ).filter((m) => m.kind === 'Cluster');
    expect(clusters.map((c) => c.metadata.name)).toEqual(['prod', 'staging']);
    for (const c of clusters) expect(c.spec.provider.aws).toMatchObject({ subnets: PLACEHOLDER_SUBNETS });
  });

  it('takes real subnets and an AMI from the context', () => {
    const { fleet } = newApp({ context: { fleet: 'example', subnets: 'subnet-0123456789abcdef0:eu-west-1a', ami: 'ami-0123456789abcdef0' } });
    const manifests = JSON.parse(
      (Object.values(Template.fromStack(fleet!).findResources('Custom::ClusterlessFleet'))[0] as { Properties: { Manifests: string } }).Properties.Manifests,
    ) as {
      kind: string;
      spec: { provider?: { aws?: unknown }; aws?: { ami?: string } };
    }[];
    expect(manifests.find((m) => m.kind === 'Cluster')!.spec.provider!.aws).toMatchObject({
      region: 'eu-west-1',
      subnets: [{ id: 'subnet-0123456789abcdef0', availabilityZone: 'eu-west-1a' }],
    });
    const amis = manifests.filter((m) => m.kind === 'MachineClass').map((m) => m.spec.aws?.ami);
    expect(amis.length).toBeGreaterThan(0);
    expect(new Set(amis)).toEqual(new Set(['ami-0123456789abcdef0']));
  });

  it('is not part of the app unless asked for', () => {
    expect(newApp().fleet).toBeUndefined();
  });

  it('refuses an unknown fleet', () => {
    expect(() => newApp({ context: { fleet: 'prod' } })).toThrow(/only fleet this app knows is "example"/);
  });
});
