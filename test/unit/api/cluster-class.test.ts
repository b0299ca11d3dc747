/** ClusterClass validation, Cluster.spec.topology, and the rules between the two (each refusal names its field). */
import { describe, expect, it } from 'vitest';
import { removedWorkerClassCauses, topologyClassCauses, type ClusterClass } from '../../../functions/api/cluster-class.js';
import type { Cluster } from '../../../functions/api/cluster.js';
import { valueErrors } from '../../../functions/api/cluster-class-variables.js';
import { clusterClassCauses } from '../../../functions/api/service/cluster-class-checks.js';
import { validateUpdate } from '../../../functions/api/validate.js';
import { standardClass, topologyCluster } from './cluster-class-fixtures.js';
import { createCauses, created, expectCause, expectOnlyCause, updateCauses, withValue } from './fixtures.js';

const schemaAt = (i: number) => `spec.variables[${i}].schema.openAPIV3Schema`;

describe('ClusterClass', () => {
  it('takes the class of the contract and fills the defaults of the ControlPlane and MachineDeployment fields', () => {
    const cc = created(standardClass()) as ClusterClass;
    expect(cc.spec.controlPlane).toMatchObject({ replicas: 3, rollout: { maxSurge: 1 }, nodeDrainTimeoutSeconds: 300, metadata: {} });
    expect(cc.spec.workers.machineDeployments[0]).toMatchObject({
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      minReadySeconds: 0,
      template: { nodeDrainTimeoutSeconds: 300 },
    });
    expect(cc.spec.controlPlane.machineHealthCheck).toMatchObject({ nodeStartupTimeout: '10m', maxUnhealthy: '40%' });
  });

  it('parses to itself and never shares a value with the request', () => {
    const body = standardClass();
    const cc = created(body) as ClusterClass;
    expect(created(cc)).toEqual(cc);
    expect(cc.spec.variables[0]!.schema.openAPIV3Schema).not.toBe((body['spec'] as ClusterClass['spec']).variables[0]!.schema.openAPIV3Schema);
  });

  it.each([
    {
      name: 'a keyword outside the subset',
      schema: { type: 'string', format: 'email' },
      field: `${schemaAt(0)}.format`,
      reason: 'FieldValueForbidden' as const,
    },
    { name: 'no type', schema: { enum: ['a'] }, field: `${schemaAt(0)}.type`, reason: 'FieldValueRequired' as const },
    { name: 'an unknown type', schema: { type: 'date' }, field: `${schemaAt(0)}.type`, reason: 'FieldValueInvalid' as const },
    { name: 'minimum on a string', schema: { type: 'string', minimum: 1 }, field: `${schemaAt(0)}.minimum`, reason: 'FieldValueForbidden' as const },
    { name: 'a bad pattern', schema: { type: 'string', pattern: '(' }, field: `${schemaAt(0)}.pattern`, reason: 'FieldValueInvalid' as const },
    { name: 'an array without items', schema: { type: 'array' }, field: `${schemaAt(0)}.items`, reason: 'FieldValueRequired' as const },
    {
      name: 'a nested property of no known type',
      schema: { type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'text' } } } } },
      field: `${schemaAt(0)}.properties.a.properties.b.type`,
      reason: 'FieldValueInvalid' as const,
    },
    {
      name: 'a required property it does not list',
      schema: { type: 'object', properties: {}, required: ['x'] },
      field: `${schemaAt(0)}.required[0]`,
      reason: 'FieldValueInvalid' as const,
    },
    {
      name: 'a default the schema refuses',
      schema: { type: 'integer', maximum: 3, default: 5 },
      field: `${schemaAt(0)}.default`,
      reason: 'FieldValueInvalid' as const,
    },
    {
      name: 'an enum value of the wrong type',
      schema: { type: 'integer', enum: [1, 'two'] },
      field: `${schemaAt(0)}.enum[1]`,
      reason: 'FieldValueInvalid' as const,
    },
  ])('refuses a variable schema with $name', ({ schema, field, reason }) => {
    const causes = createCauses(withValue(standardClass(), 'spec.variables[0].schema.openAPIV3Schema', schema));
    expectCause(causes, field, reason);
  });

  it.each([
    {
      name: 'two worker classes of one name',
      path: 'spec.workers.machineDeployments[1]',
      value: { class: 'default-worker', template: { machineClassRef: { name: 'x' } } },
      field: 'spec.workers.machineDeployments[1].class',
      reason: 'FieldValueDuplicate' as const,
    },
    {
      name: 'two variables of one name',
      path: 'spec.variables[1].name',
      value: 'workerMachineClass',
      field: 'spec.variables[1].name',
      reason: 'FieldValueDuplicate' as const,
    },
    {
      name: 'a reserved variable name',
      path: 'spec.variables[1].name',
      value: 'builtin',
      field: 'spec.variables[1].name',
      reason: 'FieldValueInvalid' as const,
    },
    {
      name: 'a patch of the version the topology owns',
      path: 'spec.patches[0].definitions[0].jsonPatches[1].path',
      value: '/spec/template/spec/version',
      field: 'spec.patches[0].definitions[0].jsonPatches[1].path',
      reason: 'FieldValueInvalid' as const,
    },
    {
      name: 'a patch of the replicas the topology owns',
      path: 'spec.patches[0].definitions[0].jsonPatches[1].path',
      value: '/spec/replicas',
      field: 'spec.patches[0].definitions[0].jsonPatches[1].path',
      reason: 'FieldValueInvalid' as const,
    },
    {
      name: 'a patch that reads an undeclared variable',
      path: 'spec.patches[0].definitions[0].jsonPatches[0].valueFrom.variable',
      value: 'nope',
      field: 'spec.patches[0].definitions[0].jsonPatches[0].valueFrom.variable',
      reason: 'FieldValueInvalid' as const,
    },
    {
      name: 'a patch selecting an undefined worker class',
      path: 'spec.patches[0].definitions[0].selector.matchResources.machineDeploymentClass.names[0]',
      value: 'gpu',
      field: 'spec.patches[0].definitions[0].selector.matchResources.machineDeploymentClass.names[0]',
      reason: 'FieldValueInvalid' as const,
    },
    {
      name: 'a replace with both value and valueFrom',
      path: 'spec.patches[0].definitions[0].jsonPatches[0].value',
      value: 'worker-m5',
      field: 'spec.patches[0].definitions[0].jsonPatches[0].value',
      reason: 'FieldValueRequired' as const,
    },
    { name: 'an even control plane', path: 'spec.controlPlane.replicas', value: 2, field: 'spec.controlPlane.replicas', reason: 'FieldValueInvalid' as const },
  ])('refuses $name', ({ path, value, field, reason }) => {
    expectOnlyCause(createCauses(withValue(standardClass(), path, value)), field, reason);
  });

  it('lets a patch read a field of an object variable, not of an undeclared one', () => {
    const from = (v: string) => withValue(standardClass(), 'spec.patches[0].definitions[0].jsonPatches[0].valueFrom.variable', v);
    created(from('settings.drain'));
    expectOnlyCause(createCauses(from('other.drain')), 'spec.patches[0].definitions[0].jsonPatches[0].valueFrom.variable', 'FieldValueInvalid');
  });

  it('lets a patch read a built-in variable of its kind, not one of another kind', () => {
    const builtin = (v: string) => withValue(standardClass(), 'spec.patches[0].definitions[0].jsonPatches[0].valueFrom.variable', v);
    created(builtin('builtin.machineDeployment.name'));
    const cp = withValue(
      withValue(standardClass(), 'spec.patches[0].definitions[0].selector', { kind: 'ControlPlane', matchResources: { controlPlane: true } }),
      'spec.patches[0].definitions[0].jsonPatches',
      [{ op: 'add', path: '/metadata/labels/md', valueFrom: { variable: 'builtin.machineDeployment.name' } }],
    );
    expectOnlyCause(createCauses(cp), 'spec.patches[0].definitions[0].jsonPatches[0].valueFrom.variable', 'FieldValueInvalid');
  });

  it('refuses an update that removes a worker class a Cluster still uses, and takes one no Cluster uses', () => {
    const unpatched = withValue(standardClass(), 'spec.patches', []);
    const old = created(unpatched) as ClusterClass;
    const next = created(withValue(unpatched, 'spec.workers.machineDeployments', [])) as ClusterClass;
    const user = created(topologyCluster()) as Cluster;
    expectOnlyCause(removedWorkerClassCauses(old, next, [user]), 'spec.workers.machineDeployments', 'FieldValueForbidden', 'prod');
    expect(removedWorkerClassCauses(old, next, [created(withValue(topologyCluster(), 'spec.topology.workers', undefined)) as Cluster])).toEqual([]);
  });
});

describe('Cluster.spec.topology', () => {
  it('is optional, and kept as given when set', () => {
    const c = created(topologyCluster()) as Cluster;
    expect(c.spec.topology).toMatchObject({ class: 'standard', version: 'v1.31.2', variables: [{ name: 'settings', value: { drain: 30 } }] });
  });

  it.each([
    { name: 'a version that is not one', path: 'spec.topology.version', value: '1.31', field: 'spec.topology.version' },
    { name: 'no class', path: 'spec.topology.class', value: undefined, field: 'spec.topology.class' },
    {
      name: 'two MachineDeployments of one name',
      path: 'spec.topology.workers.machineDeployments[1]',
      value: { class: 'default-worker', name: 'md-0' },
      field: 'spec.topology.workers.machineDeployments[1].name',
    },
    { name: 'a variable without a value', path: 'spec.topology.variables[0].value', value: undefined, field: 'spec.topology.variables[0].value' },
    { name: 'an even control plane', path: 'spec.topology.controlPlane.replicas', value: 2, field: 'spec.topology.controlPlane.replicas' },
    {
      name: "a MachineDeployment name too long with the cluster's",
      path: 'spec.topology.workers.machineDeployments[0].name',
      value: 'm'.repeat(60),
      field: 'spec.topology.workers.machineDeployments[0].name',
    },
    { name: "a cluster name too long for its ControlPlane's", path: 'metadata.name', value: 'c'.repeat(50), field: 'metadata.name' },
  ])('refuses $name', ({ path, value, field }) => {
    expect(createCauses(withValue(topologyCluster(), path, value)).map((c) => c.field)).toContain(field);
  });

  it.each([
    { name: 'down', to: 'v1.31.1', ok: false },
    { name: 'across a major', to: 'v2.0.0', ok: false },
    { name: 'four minors up', to: 'v1.35.0', ok: false },
    { name: 'three minors up (the control plane then steps one at a time)', to: 'v1.34.0', ok: true },
    { name: 'one patch up', to: 'v1.31.3', ok: true },
  ])('moves the version $name: allowed $ok', ({ to, ok }) => {
    const old = created(topologyCluster());
    const next = withValue(old, 'spec.topology.version', to);
    if (ok) expect(validateUpdate(old, next).ok).toBe(true);
    else expectOnlyCause(updateCauses(old, next), 'spec.topology.version', 'FieldValueForbidden');
  });

  it('cannot be added to a cluster made without one, nor removed', () => {
    const plain = created(withValue(topologyCluster(), 'spec.topology', undefined));
    expectOnlyCause(updateCauses(plain, topologyCluster()), 'spec.topology', 'FieldValueForbidden');
    expectOnlyCause(updateCauses(created(topologyCluster()), withValue(topologyCluster(), 'spec.topology', undefined)), 'spec.topology', 'FieldValueForbidden');
  });
});

describe('a topology checked against its class', () => {
  const cc = () => created(standardClass()) as ClusterClass;
  const causes = (topology: Record<string, unknown>) => topologyClassCauses((created(topologyCluster(topology)) as Cluster).spec.topology!, cc());

  it('takes values the schemas allow', () => {
    expect(causes({})).toEqual([]);
  });

  it.each([
    {
      name: 'a value outside the enum',
      vars: [
        { name: 'workerMachineClass', value: 'x' },
        { name: 'settings', value: { drain: 1 } },
      ],
      field: 'spec.topology.variables[0].value',
    },
    { name: 'a nested value over its maximum', vars: [{ name: 'settings', value: { drain: 601 } }], field: 'spec.topology.variables[0].value' },
    { name: 'a nested value of the wrong type', vars: [{ name: 'settings', value: { drain: '5' } }], field: 'spec.topology.variables[0].value' },
    { name: 'a missing required property', vars: [{ name: 'settings', value: {} }], field: 'spec.topology.variables[0].value' },
    { name: 'an unknown property', vars: [{ name: 'settings', value: { drain: 1, extra: true } }], field: 'spec.topology.variables[0].value' },
    {
      name: 'a variable the class does not declare',
      vars: [
        { name: 'settings', value: { drain: 1 } },
        { name: 'other', value: 1 },
      ],
      field: 'spec.topology.variables[1].name',
    },
  ])('refuses $name, naming the field', ({ vars, field }) => {
    expectOnlyCause(causes({ variables: vars }), field, 'FieldValueInvalid');
  });

  it('refuses a MachineDeployment of a worker class the class does not define, and a bad override', () => {
    const c = causes({
      workers: {
        machineDeployments: [
          { class: 'gpu', name: 'md-0' },
          { class: 'default-worker', name: 'md-1', variables: { overrides: [{ name: 'workerMachineClass', value: 'nope' }] } },
        ],
      },
    });
    expectCause(c, 'spec.topology.workers.machineDeployments[0].class', 'FieldValueInvalid');
    expectCause(c, 'spec.topology.workers.machineDeployments[1].variables.overrides[0].value', 'FieldValueInvalid');
  });

  it('refuses a topology without a required variable that has no default', () => {
    const required = withValue(standardClass(), 'spec.variables[1].required', true);
    const c = topologyClassCauses((created(topologyCluster({ variables: [] })) as Cluster).spec.topology!, created(required) as ClusterClass);
    expectOnlyCause(c, 'spec.topology.variables', 'FieldValueRequired', 'settings');
  });

  it('is checked at admission when the class exists, and deferred to the planner when it does not', async () => {
    const bad = created(topologyCluster({ variables: [{ name: 'settings', value: { drain: -1 } }] }));
    const store = (classes: ClusterClass[]) => ({
      get: async (_k: string, _ns: string, name: string) => classes.find((c) => c.metadata.name === name) as never,
      list: async () => [] as never[],
    });
    expectOnlyCause(await clusterClassCauses(store([cc()]), bad, undefined), 'spec.topology.variables[0].value', 'FieldValueInvalid');
    expect(await clusterClassCauses(store([]), bad, undefined)).toEqual([]);
  });

  it('reads strings by code points and arrays item by item', () => {
    expect(valueErrors({ type: 'string', maxLength: 2 }, 'éé')).toEqual([]);
    expect(valueErrors({ type: 'array', items: { type: 'integer' } }, [1, 2.5])).toEqual(['/1: must be of type integer, not number']);
  });
});
