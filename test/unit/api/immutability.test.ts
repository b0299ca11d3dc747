import { describe, expect, it } from 'vitest';
import type { ApiObject } from '../../../functions/api/kind.js';
import { validateUpdate } from '../../../functions/api/validate.js';
import { KIND_NAMES, created, expectCause, expectOnlyCause, full, minimal, updateCauses, valueAt, withValue } from './fixtures.js';

/** As the store holds it: defaulted, with server fields. */
const stored = (body: Record<string, unknown>): ApiObject => {
  const obj = created(body);
  return { ...obj, metadata: { ...obj.metadata, uid: 'u-1', resourceVersion: '7', generation: 2, creationTimestamp: '2025-01-01T00:00:00Z' } };
};

describe('an update', () => {
  it.each(KIND_NAMES)('%s: sending back what was read is accepted and changes nothing', (kind) => {
    const old = stored(minimal[kind]());
    const r = validateUpdate(old, structuredClone(old));
    expect(r.ok && r.object).toEqual(old);
  });

  it.each(KIND_NAMES)('%s: the manifest as first applied is accepted again', (kind) => {
    const old = stored(minimal[kind]());
    expect(validateUpdate(old, minimal[kind]()).ok).toBe(true);
  });

  it.each(KIND_NAMES)('%s: keeps the namespace of the object when the body has none', (kind) => {
    const old = stored(withValue(minimal[kind](), 'metadata.namespace', 'team-a'));
    const r = validateUpdate(old, minimal[kind]());
    expect(r.ok && r.object.metadata.namespace).toBe('team-a');
  });

  it.each(KIND_NAMES)('%s: refuses another name', (kind) => {
    const old = stored(minimal[kind]());
    expectOnlyCause(updateCauses(old, withValue(old, 'metadata.name', 'renamed')), 'metadata.name', 'FieldValueInvalid', 'field is immutable');
  });

  it.each(KIND_NAMES)('%s: refuses another namespace', (kind) => {
    const old = stored(minimal[kind]());
    expectOnlyCause(updateCauses(old, withValue(old, 'metadata.namespace', 'elsewhere')), 'metadata.namespace', 'FieldValueInvalid', 'field is immutable');
  });

  it('refuses another kind', () => {
    const old = stored(minimal.MachineSet());
    expectOnlyCause(
      updateCauses(old, withValue(minimal.MachineDeployment(), 'metadata.name', old.metadata.name)),
      'kind',
      'FieldValueInvalid',
      'field is immutable',
    );
  });

  it('validates the new object like a create', () => {
    const old = stored(minimal.MachineDeployment());
    expectOnlyCause(updateCauses(old, withValue(old, 'spec.replicas', -1)), 'spec.replicas', 'FieldValueInvalid');
  });

  it('refuses a namespace other than the request one', () => {
    const old = stored(minimal.Cluster());
    expectOnlyCause(updateCauses(old, minimal.Cluster(), { namespace: 'team-b' }), 'metadata.namespace', 'FieldValueInvalid');
  });
});

describe('spec.clusterName is immutable', () => {
  const kinds = KIND_NAMES.filter((k) => valueAt(minimal[k](), 'spec.clusterName') !== undefined);

  it('applies to every kind that belongs to a cluster', () => {
    expect(kinds.sort()).toEqual(['ClusterResourceSetBinding', 'ControlPlane', 'Machine', 'MachineDeployment', 'MachineHealthCheck', 'MachineSet']);
  });

  it.each(kinds)('%s', (kind) => {
    const old = stored(minimal[kind]());
    // A health check's selector names no cluster here, so only the clusterName changes.
    const causes = updateCauses(old, withValue(old, 'spec.clusterName', 'staging'));
    expectCause(causes, 'spec.clusterName', 'FieldValueInvalid', 'Invalid value: "staging": field is immutable');
  });
});

describe('Cluster', () => {
  it.each([
    { name: 'pod range', field: 'spec.clusterNetwork.pods.cidrBlocks', value: ['10.244.0.0/16'] },
    { name: 'service range', field: 'spec.clusterNetwork.services.cidrBlocks', value: ['10.100.0.0/16'] },
    { name: 'service domain', field: 'spec.clusterNetwork.serviceDomain', value: 'other.local' },
  ])('refuses a change of the $name (spec.clusterNetwork is immutable)', ({ field, value }) => {
    const old = stored(minimal.Cluster());
    expectOnlyCause(updateCauses(old, withValue(old, field, value)), 'spec.clusterNetwork', 'FieldValueInvalid', 'field is immutable');
  });

  it('refuses another AWS region', () => {
    const old = stored(full.awsCluster());
    expectOnlyCause(
      updateCauses(old, withValue(old, 'spec.provider.aws.region', 'us-east-1')),
      'spec.provider.aws.region',
      'FieldValueInvalid',
      'Invalid value: "us-east-1": field is immutable',
    );
  });

  it.each([
    { name: 'sim to aws', from: minimal.Cluster, to: () => full.awsCluster().spec },
    { name: 'aws to sim', from: full.awsCluster, to: () => ({ ...(full.awsCluster().spec as object), provider: { sim: {} } }) },
  ])('refuses a provider change from $name', ({ from, to }) => {
    const old = stored(from());
    const body = { ...old, spec: { ...(to() as object), clusterNetwork: (old.spec as { clusterNetwork: unknown }).clusterNetwork } };
    expectOnlyCause(updateCauses(old, body), 'spec.provider', 'FieldValueForbidden', 'the provider cannot change');
  });

  it('allows the rest of the spec to change', () => {
    const old = stored(full.awsCluster());
    const body = withValue(withValue(old, 'spec.paused', true), 'spec.provider.aws.subnets', [
      { id: 'subnet-0123456789abcdef9', availabilityZone: 'eu-west-1c' },
    ]);
    expect(validateUpdate(old, body).ok).toBe(true);
  });
});

describe('Machine.spec.providerID', () => {
  const providerID = 'aws:///eu-west-1a/i-0123456789abcdef0';

  it('may be set once', () => {
    const old = stored(minimal.Machine());
    const r = validateUpdate(old, withValue(old, 'spec.providerID', providerID));
    expect(r.ok && valueAt(r.object, 'spec.providerID')).toBe(providerID);
  });

  it('may not change once set', () => {
    const old = stored(withValue(minimal.Machine(), 'spec.providerID', providerID));
    expectOnlyCause(
      updateCauses(old, withValue(old, 'spec.providerID', 'aws:///eu-west-1b/i-0fedcba9876543210')),
      'spec.providerID',
      'FieldValueInvalid',
      'field is immutable',
    );
  });

  it('may not be removed once set', () => {
    const old = stored(withValue(minimal.Machine(), 'spec.providerID', providerID));
    expectOnlyCause(updateCauses(old, withValue(old, 'spec.providerID', undefined)), 'spec.providerID', 'FieldValueForbidden', 'may not be removed');
  });

  it('must look like a provider ID', () => {
    const old = stored(minimal.Machine());
    expectOnlyCause(updateCauses(old, withValue(old, 'spec.providerID', 'i-0123')), 'spec.providerID', 'FieldValueInvalid', 'provider ID');
  });
});

describe.each(['MachineDeployment', 'MachineSet'] as const)('%s selector', (kind) => {
  it('is immutable', () => {
    const old = stored(minimal[kind]());
    const body = withValue(withValue(old, 'spec.selector', { matchLabels: { app: 'x' } }), 'spec.template.metadata.labels', { app: 'x' });
    expectOnlyCause(updateCauses(old, body), 'spec.selector', 'FieldValueInvalid', 'field is immutable');
  });
});
