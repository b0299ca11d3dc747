import { describe, expect, it } from 'vitest';
import { API_VERSION, Labels } from '../../../functions/api/common.js';
import { MAX_ANNOTATIONS_BYTES } from '../../../functions/api/meta.js';
import { validateCreate } from '../../../functions/api/validate.js';
import { KIND_NAMES, createCauses, created, deepFreeze, expectCause, expectOnlyCause, full, minimal, withValue } from './fixtures.js';

const badNames = [
  { name: 'upper case', value: 'Prod' },
  { name: 'underscore', value: 'prod_1' },
  { name: 'dot', value: 'prod.1' },
  { name: 'leading dash', value: '-prod' },
  { name: 'trailing dash', value: 'prod-' },
  { name: 'empty', value: '' },
  { name: '64 characters', value: 'a'.repeat(64) },
];

describe('metadata.name', () => {
  it.each(KIND_NAMES)('%s: an RFC 1123 label of up to 63 characters is accepted', (kind) => {
    // Prepare
    const body = withValue(minimal[kind](), 'metadata.name', `a${'-b'.repeat(31)}`);
    // Act
    const obj = created(body);
    // Assess
    expect(obj.metadata.name).toHaveLength(63);
  });

  it.each(KIND_NAMES.flatMap((kind) => badNames.map((b) => ({ ...b, kind }))))('$kind: $name is refused', ({ kind, value }) => {
    const causes = createCauses(withValue(minimal[kind](), 'metadata.name', value));
    expectOnlyCause(
      causes,
      'metadata.name',
      'FieldValueInvalid',
      value.length > 63 ? 'no more than 63 characters' : value === '' ? 'must not be empty' : 'RFC 1123 label',
    );
  });

  it('shows the refused value in the message', () => {
    const causes = createCauses(withValue(minimal.Cluster(), 'metadata.name', 'Prod'));
    expect(causes[0]!.message).toMatch(/^Invalid value: "Prod": /);
  });

  it('is required', () => {
    const causes = createCauses(withValue(minimal.Cluster(), 'metadata.name', undefined));
    expectOnlyCause(causes, 'metadata.name', 'FieldValueRequired', 'Required value');
  });

  it('must be a string', () => {
    const causes = createCauses(withValue(minimal.Cluster(), 'metadata.name', 42));
    expectOnlyCause(causes, 'metadata.name', 'FieldValueInvalid', 'must be of type string, not integer');
  });
});

describe('metadata.namespace', () => {
  it.each(KIND_NAMES)('%s: defaults to "default"', (kind) => {
    expect(created(minimal[kind]()).metadata.namespace).toBe('default');
  });

  it.each(KIND_NAMES)('%s: keeps a given namespace', (kind) => {
    expect(created(withValue(minimal[kind](), 'metadata.namespace', 'team-a')).metadata.namespace).toBe('team-a');
  });

  it.each(KIND_NAMES.flatMap((kind) => badNames.map((b) => ({ ...b, kind }))))('$kind: $name is refused', ({ kind, value }) => {
    const causes = createCauses(withValue(minimal[kind](), 'metadata.namespace', value));
    expectOnlyCause(causes, 'metadata.namespace', 'FieldValueInvalid');
  });

  it('takes the namespace of the request when the body has none', () => {
    expect(created(minimal.Cluster(), { namespace: 'team-b' }).metadata.namespace).toBe('team-b');
  });

  it('refuses a body whose namespace is not the request namespace', () => {
    const causes = createCauses(withValue(minimal.Cluster(), 'metadata.namespace', 'team-a'), { namespace: 'team-b' });
    expectOnlyCause(causes, 'metadata.namespace', 'FieldValueInvalid', 'does not match the namespace of the request (team-b)');
  });
});

describe('labels', () => {
  const goodKeys = ['app', 'app.kubernetes.io/name', 'example.com/a_b-c.d', `${'a'.repeat(63)}`, `${'b'.repeat(253)}/x`];
  const badKeys = [
    { name: 'two slashes', key: 'a/b/c' },
    { name: 'empty prefix', key: '/app' },
    { name: 'empty name', key: 'example.com/' },
    { name: 'upper-case prefix', key: 'Example.com/app' },
    { name: 'space', key: 'my app' },
    { name: 'name of 64', key: 'a'.repeat(64) },
    { name: 'prefix of 254', key: `${'b'.repeat(254)}/x` },
    { name: 'leading dash', key: '-app' },
  ];
  const badValues = [
    { name: 'space', value: 'a b' },
    { name: 'leading dash', value: '-a' },
    { name: 'trailing dot', value: 'a.' },
    { name: 'slash', value: 'a/b' },
    { name: '64 characters', value: 'v'.repeat(64) },
  ];

  it('accepts qualified keys and an empty value', () => {
    const labels = Object.fromEntries(goodKeys.map((k) => [k, '']));
    expect(created(withValue(minimal.Cluster(), 'metadata.labels', { ...labels, tier: 'a.b_c-1' })).metadata.labels).toMatchObject(labels);
  });

  it.each(badKeys)('refuses a key with $name, naming the key', ({ key }) => {
    const causes = createCauses(withValue(minimal.Machine(), 'metadata.labels', { [key]: 'x' }));
    expectOnlyCause(causes, `metadata.labels[${key}]`, 'FieldValueInvalid', 'invalid label key');
  });

  it.each(badValues)('refuses a value with $name, naming the key', ({ value }) => {
    const causes = createCauses(withValue(minimal.Machine(), 'metadata.labels', { app: value }));
    expectOnlyCause(causes, 'metadata.labels[app]', 'FieldValueInvalid', JSON.stringify(value));
  });

  it('checks the labels of a machine template', () => {
    const causes = createCauses(withValue(minimal.MachineDeployment(), 'spec.template.metadata.labels', { app: 'a b' }));
    expectCause(causes, 'spec.template.metadata.labels[app]', 'FieldValueInvalid');
  });

  it('checks the labels of a selector', () => {
    const causes = createCauses(withValue(minimal.MachineHealthCheck(), 'spec.selector', { matchLabels: { 'a/b/c': 'x' } }));
    expectCause(causes, 'spec.selector.matchLabels[a/b/c]', 'FieldValueInvalid', 'invalid label key');
  });

  it.each([
    { name: 'In without values', expr: { key: 'tier', operator: 'In' }, field: 'values', reason: 'FieldValueRequired' as const },
    { name: 'NotIn with no values', expr: { key: 'tier', operator: 'NotIn', values: [] }, field: 'values', reason: 'FieldValueRequired' as const },
    { name: 'Exists with values', expr: { key: 'tier', operator: 'Exists', values: ['a'] }, field: 'values', reason: 'FieldValueForbidden' as const },
    { name: 'a bad key', expr: { key: 'a b', operator: 'Exists' }, field: 'key', reason: 'FieldValueInvalid' as const },
    { name: 'a bad value', expr: { key: 'tier', operator: 'In', values: ['ok', 'not ok'] }, field: 'values[1]', reason: 'FieldValueInvalid' as const },
    { name: 'an unknown operator', expr: { key: 'tier', operator: 'Matches', values: ['a'] }, field: 'operator', reason: 'FieldValueNotSupported' as const },
  ])('refuses a selector requirement with $name', ({ expr, field, reason }) => {
    const causes = createCauses(withValue(minimal.MachineHealthCheck(), 'spec.selector', { matchExpressions: [expr] }));
    expectOnlyCause(causes, `spec.selector.matchExpressions[0].${field}`, reason);
  });
});

describe('annotations', () => {
  it('accepts any text as a value', () => {
    const annotations = { 'example.com/note': 'line 1\nline 2 — ✓ {"json": true}' };
    expect(created(withValue(minimal.Cluster(), 'metadata.annotations', annotations)).metadata.annotations).toEqual(annotations);
  });

  it('refuses a key that is not a qualified name', () => {
    const causes = createCauses(withValue(minimal.Cluster(), 'metadata.annotations', { 'not a key': 'x' }));
    expectOnlyCause(causes, 'metadata.annotations[not a key]', 'FieldValueInvalid', 'invalid annotation key');
  });

  it(`refuses more than ${MAX_ANNOTATIONS_BYTES} bytes in all`, () => {
    const half = 'x'.repeat(MAX_ANNOTATIONS_BYTES / 2);
    const causes = createCauses(withValue(minimal.Cluster(), 'metadata.annotations', { a: half, b: half }));
    expectOnlyCause(causes, 'metadata.annotations', 'FieldValueTooLong', 'Too long:');
  });
});

it('refuses a finalizer that is not a qualified name', () => {
  const causes = createCauses(withValue(minimal.Cluster(), 'metadata.finalizers', ['clusterless.dev/cluster', 'bad finalizer']));
  expectOnlyCause(causes, 'metadata.finalizers[1]', 'FieldValueInvalid');
});

describe('unknown fields are refused at every level, with their path', () => {
  const cases: { name: string; body: () => Record<string, unknown>; path: string }[] = [
    { name: 'top level', body: minimal.Cluster, path: 'extra' },
    { name: 'metadata', body: minimal.Cluster, path: 'metadata.generateName' },
    {
      name: 'owner reference',
      body: () => withValue(minimal.Machine(), 'metadata.ownerReferences', [{ apiVersion: API_VERSION, kind: 'MachineSet', name: 'ms', uid: 'u1' }]),
      path: 'metadata.ownerReferences[0].extra',
    },
    { name: 'Cluster spec', body: minimal.Cluster, path: 'spec.infrastructureRef' },
    { name: 'cluster network', body: minimal.Cluster, path: 'spec.clusterNetwork.apiServerPort' },
    { name: 'pod network', body: full.awsCluster, path: 'spec.clusterNetwork.pods.extra' },
    { name: 'aws provider', body: full.awsCluster, path: 'spec.provider.aws.vpcId' },
    { name: 'aws subnet', body: full.awsCluster, path: 'spec.provider.aws.subnets[1].cidr' },
    { name: 'provider', body: full.awsCluster, path: 'spec.provider.gcp' },
    { name: 'status', body: minimal.Cluster, path: 'status.extra' },
    { name: 'condition', body: full.deployment, path: 'status.conditions[0].extra' },
    { name: 'ControlPlane spec', body: minimal.ControlPlane, path: 'spec.kubeadmConfigSpec' },
    { name: 'ControlPlane rollout', body: minimal.ControlPlane, path: 'spec.rollout.type' },
    { name: 'ControlPlane remediation', body: minimal.ControlPlane, path: 'spec.remediation.extra' },
    { name: 'MachineClass aws', body: full.awsMachineClass, path: 'spec.aws.userData' },
    { name: 'MachineClass root volume', body: full.awsMachineClass, path: 'spec.aws.rootVolume.iops' },
    { name: 'MachineClass sim', body: minimal.MachineClass, path: 'spec.sim.extra' },
    { name: 'MachineDeployment template', body: minimal.MachineDeployment, path: 'spec.template.extra' },
    { name: 'template metadata', body: minimal.MachineDeployment, path: 'spec.template.metadata.name' },
    { name: 'template spec', body: minimal.MachineDeployment, path: 'spec.template.spec.bootstrap' },
    { name: 'machine class ref', body: minimal.MachineDeployment, path: 'spec.template.spec.machineClassRef.kind' },
    { name: 'strategy', body: full.deployment, path: 'spec.strategy.remediation' },
    { name: 'rolling update', body: full.deployment, path: 'spec.strategy.rollingUpdate.extra' },
    { name: 'selector', body: full.deployment, path: 'spec.selector.extra' },
    { name: 'selector requirement', body: full.deployment, path: 'spec.selector.matchExpressions[0].extra' },
    { name: 'MachineSet spec', body: minimal.MachineSet, path: 'spec.strategy' },
    { name: 'Machine spec', body: minimal.Machine, path: 'spec.bootstrap' },
    { name: 'Machine status', body: minimal.Machine, path: 'status.infrastructure.extra' },
    { name: 'unhealthy condition', body: full.healthCheck, path: 'spec.unhealthyConditions[0].extra' },
    { name: 'MachineHealthCheck spec', body: minimal.MachineHealthCheck, path: 'spec.remediationTemplate' },
  ];

  it.each(cases)('$name: $path', ({ body, path }) => {
    // Prepare
    const b = withValue(body(), path, 'surprise');
    // Act
    const causes = createCauses(b);
    // Assess
    expectOnlyCause(causes, path, 'FieldValueNotSupported', `unknown field "${path}"`);
  });

  it('names every unknown field and every invalid one together', () => {
    const b = withValue(withValue(withValue(minimal.Cluster(), 'spec.foo', 1), 'spec.bar', 2), 'metadata.name', 'Bad');
    const causes = createCauses(b);
    expect(causes.map((c) => c.field).sort()).toEqual(['metadata.name', 'spec.bar', 'spec.foo']);
  });
});

describe('a missing spec', () => {
  it.each(KIND_NAMES)('%s: gives one Required value cause on spec', (kind) => {
    const causes = createCauses(withValue(minimal[kind](), 'spec', undefined));
    expect(causes).toEqual([{ field: 'spec', reason: 'FieldValueRequired', message: 'Required value' }]);
  });

  it.each(KIND_NAMES)('%s: spec: null is a missing spec too', (kind) => {
    const causes = createCauses(withValue(minimal[kind](), 'spec', null));
    expectOnlyCause(causes, 'spec', 'FieldValueRequired', 'Required value');
  });

  it('a missing metadata is a Required value on metadata', () => {
    expectOnlyCause(createCauses(withValue(minimal.Machine(), 'metadata', undefined)), 'metadata', 'FieldValueRequired');
  });

  it.each([
    { kind: 'ControlPlane' as const, field: 'spec.version' },
    { kind: 'ControlPlane' as const, field: 'spec.clusterName' },
    { kind: 'MachineDeployment' as const, field: 'spec.template' },
    { kind: 'MachineDeployment' as const, field: 'spec.template.spec.machineClassRef' },
    { kind: 'Machine' as const, field: 'spec.machineClassRef.name' },
    { kind: 'MachineHealthCheck' as const, field: 'spec.selector' },
  ])('$kind: a missing $field is a Required value on it', ({ kind, field }) => {
    expectOnlyCause(createCauses(withValue(minimal[kind](), field, undefined)), field, 'FieldValueRequired', 'Required value');
  });
});

describe('apiVersion and kind', () => {
  it.each([
    { name: 'no apiVersion', body: withValue(minimal.Cluster(), 'apiVersion', undefined), field: 'apiVersion', reason: 'FieldValueRequired' as const },
    {
      name: 'another apiVersion',
      body: withValue(minimal.Cluster(), 'apiVersion', 'cluster.x-k8s.io/v1beta1'),
      field: 'apiVersion',
      reason: 'FieldValueNotSupported' as const,
    },
    { name: 'no kind', body: withValue(minimal.Cluster(), 'kind', undefined), field: 'kind', reason: 'FieldValueRequired' as const },
    { name: 'an unknown kind', body: withValue(minimal.Cluster(), 'kind', 'Pod'), field: 'kind', reason: 'FieldValueNotSupported' as const },
  ])('$name is refused', ({ body, field, reason }) => {
    expectOnlyCause(createCauses(body), field, reason);
  });

  it('lists the supported kinds', () => {
    const causes = createCauses(withValue(minimal.Cluster(), 'kind', 'Pod'));
    expect(causes[0]!.message).toContain('"MachineHealthCheck"');
  });

  it.each([
    { name: 'an array', body: [minimal.Cluster()] },
    { name: 'a string', body: 'Cluster' },
    { name: 'null', body: null },
  ])('a body that is $name is refused', ({ body }) => {
    expect(createCauses(body)).toHaveLength(1);
  });
});

describe('the body', () => {
  it('is never changed by validation', () => {
    const body = deepFreeze(withValue(full.deployment(), 'metadata.namespace', undefined));
    const before = JSON.stringify(body);
    created(body, { namespace: 'team-a' });
    expect(JSON.stringify(body)).toBe(before);
  });

  it('may hold nulls, read as absent fields', () => {
    const body = withValue(withValue(minimal.MachineDeployment(), 'metadata.labels', null), 'spec.replicas', null);
    const md = created(body) as unknown as { metadata: { labels: Record<string, string> }; spec: { replicas: number } };
    expect(md.spec.replicas).toBe(1);
    expect(md.metadata.labels).toEqual({ [Labels.clusterName]: 'prod' });
  });

  it('gives type errors in Kubernetes words', () => {
    const causes = createCauses(withValue(minimal.MachineDeployment(), 'spec.replicas', '3'));
    expectOnlyCause(causes, 'spec.replicas', 'FieldValueInvalid', 'Invalid value: "3": must be of type number, not string');
  });
});

it('validateCreate accepts every full example', () => {
  for (const make of Object.values(full)) expect(validateCreate(make()).ok, JSON.stringify(make())).toBe(true);
});
