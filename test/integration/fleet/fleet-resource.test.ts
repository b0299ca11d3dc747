/**
 * The ClusterFleet custom resource handler against moto's DynamoDB, with the events CloudFormation (through
 * the Provider framework) sends: create, update (scale, a cluster removed, a MachineClass rotated), delete, and
 * bad input refused with every reason and nothing changed.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';

vi.hoisted(() => {
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
});

import { API_VERSION, Finalizers, Labels } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { KindName } from '../../../functions/api/kinds.js';
import { machineClassSchema } from '../../../functions/api/machine-class.js';
import { machineSetSchema } from '../../../functions/api/machine-set.js';
import { machineSchema } from '../../../functions/api/machine.js';
import type { DynamoDbStore } from '../../../functions/adapters/dynamodb/index.js';
import { StoreUnavailableError } from '../../../functions/ports.js';
import { FLEET_ANNOTATION, FleetInputError, createFleetHandler, machineClassRefOf, onFleetEvent } from '../../../functions/handlers/fleet-resource.js';
import { type ClusterClassProps, fleetManifests, type FleetCluster, type FleetTopologyCluster } from '../../../infra/constructs/fleet-template.js';
import { ObjectService } from '../../../functions/api/service/index.js';
import { emulatorDynamoDbClient, newTableStore } from '../../support/dynamodb-store-factory.js';

const client: DynamoDBClient = emulatorDynamoDbClient(motoEndpoint());
let store: DynamoDbStore;

afterAll(() => client.destroy());

beforeEach(async () => {
  ({ store } = await newTableStore(client));
});

const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:123456789012:function:fleet-provider';

const cluster = (name: string, workers = 2): FleetCluster => ({
  name,
  kubernetesVersion: 'v1.34.1',
  provider: { aws: { region: 'us-east-1', subnets: [{ id: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' }] } },
  machineClass: { aws: { instanceTypes: ['m7g.large'], ami: 'ami-0123456789abcdef0' } },
  workers: [{ name: 'general', replicas: workers }],
});

const props = (manifests: unknown) => ({
  ServiceToken: SERVICE_TOKEN,
  FleetName: 'TeamFleet',
  Manifests: typeof manifests === 'string' ? manifests : JSON.stringify(manifests),
});
let requests = 0;
const base = () => ({
  ServiceToken: SERVICE_TOKEN,
  ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x',
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Fleet/0f1e2d3c',
  RequestId: `1b2c3d4e-0000-4000-8000-${String(++requests).padStart(12, '0')}`,
  LogicalResourceId: 'FleetResource',
  ResourceType: 'Custom::ClusterlessFleet',
});
const create = (manifests: unknown): CloudFormationCustomResourceEvent => ({ ...base(), RequestType: 'Create', ResourceProperties: props(manifests) });
const update = (physicalId: string, manifests: unknown, old: unknown): CloudFormationCustomResourceEvent => ({
  ...base(),
  RequestType: 'Update',
  PhysicalResourceId: physicalId,
  ResourceProperties: props(manifests),
  OldResourceProperties: props(old),
});
const remove = (physicalId: string, manifests: unknown): CloudFormationCustomResourceEvent => ({
  ...base(),
  RequestType: 'Delete',
  PhysicalResourceId: physicalId,
  ResourceProperties: props(manifests),
});

const get = (kind: KindName, name: string) => store.get(kind, 'default', name);
/** The name of the (first) MachineClass of some manifests: the cluster's class. */
const classOf = (manifests: readonly { kind: string; metadata: { name: string } }[]) => manifests.find((m) => m.kind === 'MachineClass')!.metadata.name;
const classRefs = async () => ({
  controlPlane: machineClassRefOf((await get('ControlPlane', 'blue-control-plane'))!),
  general: machineClassRefOf((await get('MachineDeployment', 'blue-general'))!),
});
/** A Machine of an old MachineSet of blue, as the workflows would have made it (no finalizer: the test removes it). */
const machineOf = (name: string, className: string) =>
  store.create(
    machineSchema.parse({
      apiVersion: API_VERSION,
      kind: 'Machine',
      metadata: { name, namespace: 'default', labels: { [Labels.clusterName]: 'blue' } },
      spec: { clusterName: 'blue', version: 'v1.34.1', machineClassRef: { name: className } },
    }),
  );
const machineSetOf = (name: string, className: string) =>
  store.create(
    machineSetSchema.parse({
      apiVersion: API_VERSION,
      kind: 'MachineSet',
      metadata: { name, namespace: 'default', labels: { [Labels.clusterName]: 'blue' } },
      spec: { clusterName: 'blue', replicas: 1, template: { spec: { version: 'v1.34.1', machineClassRef: { name: className } } } },
    }),
  );
const biggerClass = { aws: { instanceTypes: ['m7g.xlarge'], ami: 'ami-0123456789abcdef0' } };
const everything = async () =>
  (await Promise.all((['MachineClass', 'Cluster', 'ControlPlane', 'MachineDeployment', 'MachineHealthCheck'] as KindName[]).map((k) => store.list(k)))).flat();
const snapshot = async () =>
  (await everything()).map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}${o.metadata.deletionTimestamp ? ' deleting' : ''}`).sort();

describe('Create', () => {
  it('stores every object of the fleet with the API defaults, finalizers and the owner annotation', async () => {
    const manifests = fleetManifests([cluster('blue'), cluster('green')]);
    const res = await onFleetEvent(create(manifests), { store });
    expect(res.PhysicalResourceId).toMatch(/^TeamFleet-/);
    expect(res.Data).toEqual({ Applied: manifests.length, Deleted: 0 });
    expect((await everything()).length).toBe(manifests.length);
    const blue = await get('Cluster', 'blue');
    expect(blue?.metadata.finalizers).toEqual([Finalizers.cluster]);
    expect(blue?.metadata.annotations?.[FLEET_ANNOTATION]).toBe(res.PhysicalResourceId);
    expect(blue?.spec).toMatchObject({ clusterNetwork: { pods: { cidrBlocks: ['192.168.0.0/16'] }, serviceDomain: 'cluster.local' } });
    const md = await get('MachineDeployment', 'blue-general');
    expect(md?.spec).toMatchObject({ replicas: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
    expect(md?.metadata.finalizers).toEqual([Finalizers.machineDeployment]);
  });

  it('replaces objects that exist already (applied by hand before), keeping their uid', async () => {
    // A MachineClass of the same spec (a class's spec is immutable), without the fleet's labels.
    const declared = fleetManifests([cluster('blue')]).find((m) => m.kind === 'MachineClass')!;
    const name = declared.metadata.name;
    await store.create(
      machineClassSchema.parse({ apiVersion: API_VERSION, kind: 'MachineClass', metadata: { name, namespace: 'default' }, spec: declared.spec }),
    );
    const before = await get('MachineClass', name);
    await onFleetEvent(create(fleetManifests([cluster('blue')])), { store });
    const after = await get('MachineClass', name);
    expect(after?.metadata.uid).toBe(before?.metadata.uid);
    expect(after?.metadata.labels).toMatchObject(declared.metadata.labels!);
    expect(after?.spec).toMatchObject({ aws: { instanceTypes: ['m7g.large'] } });
  });

  it('refuses a fleet the API would refuse, with every reason, and writes nothing', async () => {
    const manifests = fleetManifests([cluster('blue')]).map((m) => (m.kind === 'ControlPlane' ? { ...m, spec: { ...m.spec, replicas: 2 } } : m));
    manifests.push({ apiVersion: API_VERSION, kind: 'MachineDeployment', metadata: { name: 'Bad_Name', namespace: 'default' }, spec: {} });
    const refused = onFleetEvent(create(manifests), { store });
    await expect(refused).rejects.toBeInstanceOf(FleetInputError);
    await expect(onFleetEvent(create(manifests), { store })).rejects.toThrow(
      /ControlPlane default\/blue-control-plane: spec\.replicas: .*odd[\s\S]*MachineDeployment default\/Bad_Name: metadata\.name/,
    );
    expect(await everything()).toEqual([]);
  });

  it.each([
    ['not JSON', '{"kind":', /not valid JSON/],
    ['not a list', { kind: 'Cluster' }, /JSON array/],
    ['an unknown kind', [{ apiVersion: API_VERSION, kind: 'Pod', metadata: { name: 'p' } }], /kind "Pod" is not a clusterless kind/],
    ['an object without a name', [{ apiVersion: API_VERSION, kind: 'Cluster', metadata: {}, spec: {} }], /has no metadata\.name/],
    ['an object declared twice', [...fleetManifests([cluster('blue')]), fleetManifests([cluster('blue')])[0]], /declared twice/],
  ])('refuses %s and writes nothing', async (_what, manifests, message) => {
    await expect(onFleetEvent(create(manifests), { store })).rejects.toThrow(message);
    expect(await everything()).toEqual([]);
  });

  it('takes back what it created when a write fails half-way (CloudFormation skips the Delete of a failed Create)', async () => {
    let creates = 0;
    const failing = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'create')
          return async (obj: ApiObject) => {
            if (++creates === 3) throw new StoreUnavailableError('DynamoDB refused the request: ThrottlingException');
            return target.create(obj);
          };
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    await expect(onFleetEvent(create(fleetManifests([cluster('blue')])), { store: failing })).rejects.toThrow(
      /ControlPlane default\/blue-control-plane: the API answered 503/,
    );
    // What was created is deleted again: gone, or (finalizers) marked for the teardown workflows.
    expect(await get('MachineClass', classOf(fleetManifests([cluster('blue')])))).toBeUndefined();
    expect((await get('Cluster', 'blue'))?.metadata.deletionTimestamp).toBeDefined();
    expect(await get('ControlPlane', 'blue-control-plane')).toBeUndefined();
  });

  it('refuses a FleetName that cannot name an owner', async () => {
    const event = create(fleetManifests([cluster('blue')]));
    (event.ResourceProperties as Record<string, unknown>)['FleetName'] = 'has spaces';
    await expect(onFleetEvent(event, { store })).rejects.toThrow(/FleetName/);
  });
});

describe('Update', () => {
  it('applies a scale and deletes the objects of a cluster no longer declared, its class once nothing names it', async () => {
    const old = fleetManifests([cluster('blue'), cluster('green')]);
    const { PhysicalResourceId: id } = await onFleetEvent(create(old), { store });
    const next = fleetManifests([cluster('blue', 5)]);
    const res = await onFleetEvent(update(id, next, old), { store });

    expect(res.PhysicalResourceId).toBe(id);
    const md = await get('MachineDeployment', 'blue-general');
    expect(md?.spec).toMatchObject({ replicas: 5 });
    expect(md?.metadata.generation).toBe(2);
    // Objects with finalizers are marked for teardown; the others are gone.
    expect((await get('Cluster', 'green'))?.metadata.deletionTimestamp).toBeDefined();
    expect((await get('ControlPlane', 'green-control-plane'))?.metadata.deletionTimestamp).toBeDefined();
    expect((await get('MachineDeployment', 'green-general'))?.metadata.deletionTimestamp).toBeDefined();
    expect(await get('MachineHealthCheck', 'green-general')).toBeUndefined();
    expect((await get('Cluster', 'blue'))?.metadata.deletionTimestamp).toBeUndefined();
    // green's ControlPlane and MachineDeployment still name its class while they are torn down: kept.
    const greenClass = classOf(fleetManifests([cluster('green')]));
    expect(await get('MachineClass', greenClass)).toBeDefined();
    expect(res.Data.Deleted).toBe(4);

    // The workflows finish the teardown (the finalizers go); the next Update of the fleet deletes the class.
    for (const [kind, name] of [
      ['MachineDeployment', 'green-general'],
      ['ControlPlane', 'green-control-plane'],
    ] as const) {
      const o = (await get(kind, name))!;
      // The last finalizer of an object being deleted removed: the object is gone, as in Kubernetes.
      await store.update({ ...o, metadata: { ...o.metadata, finalizers: [] } });
      expect(await get(kind, name)).toBeUndefined();
    }
    const again = await onFleetEvent(update(id, next, next), { store });
    expect(again.Data.Deleted).toBe(1);
    expect(await get('MachineClass', greenClass)).toBeUndefined();
    expect(await get('MachineClass', classOf(next))).toBeDefined();
  });

  it('keeps the status the workflows wrote', async () => {
    const old = fleetManifests([cluster('blue')]);
    const { PhysicalResourceId: id } = await onFleetEvent(create(old), { store });
    const md = (await get('MachineDeployment', 'blue-general'))!;
    await store.updateStatus({ ...md, status: { replicas: 2, readyReplicas: 2, observedGeneration: 1 } });
    await onFleetEvent(update(id, fleetManifests([cluster('blue', 3)]), old), { store });
    expect((await get('MachineDeployment', 'blue-general'))?.status).toMatchObject({ replicas: 2, readyReplicas: 2 });
  });

  it('refuses a change the API forbids (an immutable field) and changes nothing, the valid parts included', async () => {
    const old = fleetManifests([cluster('blue')]);
    const { PhysicalResourceId: id } = await onFleetEvent(create(old), { store });
    const before = await snapshot();
    const next = fleetManifests([{ ...cluster('blue', 4), clusterNetwork: { pods: { cidrBlocks: ['10.200.0.0/16'] } } }]);
    await expect(onFleetEvent(update(id, next, old), { store })).rejects.toThrow(/Cluster default\/blue: spec\.clusterNetwork/);
    expect(await snapshot()).toEqual(before);
  });

  it('rotates a changed MachineClass: a new class, the references moved, the old one kept while machines use it, deleted once unused', async () => {
    const old = fleetManifests([cluster('blue')]);
    const { PhysicalResourceId: id } = await onFleetEvent(create(old), { store });
    const oldClass = classOf(old);
    // The old template's MachineSet.
    await machineSetOf('blue-general-old', oldClass);

    const next = fleetManifests([{ ...cluster('blue'), machineClass: biggerClass }]);
    const newClass = classOf(next);
    expect(newClass).not.toBe(oldClass);
    const res = await onFleetEvent(update(id, next, old), { store });

    const created = await get('MachineClass', newClass);
    expect(created?.spec).toMatchObject({ aws: { instanceTypes: ['m7g.xlarge'] } });
    expect(created?.metadata.annotations?.[FLEET_ANNOTATION]).toBe(id);
    // Both users moved to the new class (a rollout), and the old class stays for the old machines.
    expect(await classRefs()).toEqual({ controlPlane: newClass, general: newClass });
    expect(await get('MachineClass', oldClass)).toBeDefined();
    expect(res.Data.Deleted).toBe(0);

    // The MachineSet is gone, one of its machines not yet: still kept, by a later Update that changes nothing else.
    await machineOf('blue-general-old-x', oldClass);
    await store.delete('MachineSet', 'default', 'blue-general-old');
    expect((await onFleetEvent(update(id, next, next), { store })).Data.Deleted).toBe(0);
    expect(await get('MachineClass', oldClass)).toBeDefined();

    // Nothing names it any more: deleted.
    await store.delete('Machine', 'default', 'blue-general-old-x');
    expect((await onFleetEvent(update(id, next, next), { store })).Data.Deleted).toBe(1);
    expect(await get('MachineClass', oldClass)).toBeUndefined();
    expect(await get('MachineClass', newClass)).toBeDefined();
  });

  it('never deletes a MachineClass it does not own, declared once or not, used or not', async () => {
    const old = fleetManifests([cluster('blue')]);
    const { PhysicalResourceId: id } = await onFleetEvent(create(old), { store });
    const oldClass = classOf(old);
    const spec = { aws: { instanceTypes: ['m7g.large'], ami: 'ami-0123456789abcdef0' } };
    // Applied by hand, and one another fleet resource applied: neither named by anything.
    await store.create(machineClassSchema.parse({ apiVersion: API_VERSION, kind: 'MachineClass', metadata: { name: 'by-hand', namespace: 'default' }, spec }));
    await store.create(
      machineClassSchema.parse({
        apiVersion: API_VERSION,
        kind: 'MachineClass',
        metadata: { name: 'other-fleet', namespace: 'default', annotations: { [FLEET_ANNOTATION]: 'OtherFleet-1' } },
        spec,
      }),
    );
    // The fleet's own old class is taken over by hand (its annotation removed) before the rotation.
    const taken = (await get('MachineClass', oldClass))!;
    await store.update({ ...taken, metadata: { ...taken.metadata, annotations: {} } });

    const next = fleetManifests([{ ...cluster('blue'), machineClass: biggerClass }]);
    const res = await onFleetEvent(update(id, next, old), { store });
    expect(res.Data.Deleted).toBe(0);
    for (const name of ['by-hand', 'other-fleet', oldClass]) expect(await get('MachineClass', name), name).toBeDefined();
    // Nor at the Delete of the fleet.
    await onFleetEvent(remove(id, next), { store });
    for (const name of ['by-hand', 'other-fleet', oldClass]) expect(await get('MachineClass', name), name).toBeDefined();
    expect(await get('MachineClass', classOf(next))).toBeUndefined();
  });

  it('does not delete an object another fleet resource has taken over', async () => {
    const manifests = fleetManifests([cluster('blue')]);
    const { PhysicalResourceId: first } = await onFleetEvent(create(manifests), { store });
    // CloudFormation replaces the resource (a renamed construct): the new one is created, then the old deleted.
    const { PhysicalResourceId: second } = await onFleetEvent(create(manifests), { store });
    expect(second).not.toBe(first);
    const res = await onFleetEvent(remove(first, manifests), { store });
    expect(res.Data.Deleted).toBe(0);
    expect((await get('Cluster', 'blue'))?.metadata.deletionTimestamp).toBeUndefined();
    expect((await everything()).length).toBe(manifests.length);
  });
});

describe('a fleet by class', () => {
  const awsClass = { aws: { instanceTypes: ['m7g.large'], ami: 'ami-0123456789abcdef0' } };
  const standard: ClusterClassProps = {
    controlPlane: { machineClass: awsClass },
    workers: [{ class: 'general', machineClass: awsClass }],
    variables: [{ name: 'tier', schema: { openAPIV3Schema: { type: 'string', enum: ['gold', 'silver'], default: 'silver' } } }],
  };
  const green = (tier: unknown): FleetTopologyCluster => ({
    name: 'green',
    class: 'standard',
    version: 'v1.34.1',
    provider: cluster('green').provider,
    workers: [{ name: 'md-0', class: 'general', replicas: 2 }],
    variables: { tier },
  });

  it('creates the ClusterClass and its MachineClasses before the topology Cluster', async () => {
    const manifests = fleetManifests([green('gold')], { standard });
    const res = await onFleetEvent(create(manifests), { store });
    expect(res.Data.Applied).toBe(manifests.length);
    const stored = await get('Cluster', 'green');
    expect(stored?.spec).toMatchObject({ topology: { class: 'standard', version: 'v1.34.1', variables: [{ name: 'tier', value: 'gold' }] } });
    expect((await get('ClusterClass', 'standard'))?.metadata.annotations?.[FLEET_ANNOTATION]).toBe(res.PhysicalResourceId);
  });

  it("refuses a cluster whose variables the fleet's class refuses, and writes nothing", async () => {
    const manifests = fleetManifests([green('bronze')], { standard });
    await expect(onFleetEvent(create(manifests), { store })).rejects.toThrow(FleetInputError);
    await expect(onFleetEvent(create(manifests), { store })).rejects.toThrow(/Cluster default\/green: spec\.topology\.variables\[0\]\.value: /);
    expect(await snapshot()).toEqual([]);
  });

  it('keeps a MachineClass it no longer declares while a ClusterClass names it', async () => {
    const shared = { apiVersion: API_VERSION, kind: 'MachineClass', metadata: { name: 'shared', namespace: 'default' }, spec: awsClass };
    const { PhysicalResourceId: id } = await onFleetEvent(create([shared]), { store });
    // A class applied by hand names the fleet's MachineClass.
    await new ObjectService({ store }).create('ClusterClass', 'default', {
      apiVersion: API_VERSION,
      kind: 'ClusterClass',
      metadata: { name: 'by-hand', namespace: 'default' },
      spec: { controlPlane: { machineClassRef: { name: 'shared' } } },
    });
    expect((await onFleetEvent(update(id, [], [shared]), { store })).Data.Deleted).toBe(0);
    expect(await get('MachineClass', 'shared')).toBeDefined();
  });
});

describe('Delete', () => {
  it('deletes every object of the fleet: teardown marks where there are finalizers, removal elsewhere', async () => {
    const manifests = fleetManifests([cluster('blue'), cluster('green')]);
    const { PhysicalResourceId: id } = await onFleetEvent(create(manifests), { store });
    const res = await onFleetEvent(remove(id, manifests), { store });
    expect(res).toEqual({ PhysicalResourceId: id, Data: { Applied: 0, Deleted: manifests.length } });
    const left = await everything();
    expect(left.map((o) => o.kind).sort()).toEqual(['Cluster', 'Cluster', 'ControlPlane', 'ControlPlane', 'MachineDeployment', 'MachineDeployment']);
    for (const o of left) expect(o.metadata.deletionTimestamp, `${o.kind}/${o.metadata.name}`).toBeDefined();
  });

  it('deletes the classes earlier Updates kept for their machines too, used or not', async () => {
    const old = fleetManifests([cluster('blue')]);
    const { PhysicalResourceId: id } = await onFleetEvent(create(old), { store });
    await machineOf('blue-general-old-x', classOf(old));
    const next = fleetManifests([{ ...cluster('blue'), machineClass: biggerClass }]);
    await onFleetEvent(update(id, next, old), { store });
    expect(await get('MachineClass', classOf(old))).toBeDefined();

    const res = await onFleetEvent(remove(id, next), { store });
    expect(res.Data.Deleted).toBe(next.length + 1);
    expect(await get('MachineClass', classOf(old))).toBeUndefined();
    expect(await get('MachineClass', classOf(next))).toBeUndefined();
  });

  it('succeeds when the objects are gone already', async () => {
    const manifests = fleetManifests([cluster('blue')]);
    const res = await onFleetEvent(remove('TeamFleet-gone', manifests), { store });
    expect(res.Data.Deleted).toBe(0);
  });

  it('succeeds, deleting nothing, when the stored manifests cannot be read', async () => {
    const res = await onFleetEvent(remove('TeamFleet-x', 'not json'), { store });
    expect(res.Data).toEqual({ Applied: 0, Deleted: 0 });
  });
});

describe('the Lambda handler', () => {
  it('answers the Provider framework with the physical id and data', async () => {
    const manifests = fleetManifests([cluster('blue')]);
    const res = await createFleetHandler({ store })(create(manifests));
    expect(res.PhysicalResourceId).toMatch(/^TeamFleet-/);
    expect(res.Data.Applied).toBe(manifests.length);
  });

  it('fails the request (the framework reports FAILED with the message) on bad input', async () => {
    await expect(createFleetHandler({ store })(create('[1]'))).rejects.toThrow(/Manifests\[0\]: must be an object/);
  });
});
