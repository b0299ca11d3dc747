import { describe, expect, it } from 'vitest';
import type { MachineClass } from '../../../functions/api/machine-class.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { MACHINE_CLASS_IMMUTABLE } from '../../../functions/api/machine-class.js';
import { validateUpdate } from '../../../functions/api/validate.js';
import { createCauses, created, expectOnlyCause, full, minimal, updateCauses, withValue } from './fixtures.js';

const aws = (field: string, value: unknown) => withValue(full.awsMachineClass(), `spec.aws.${field}`, value);

describe('MachineClass', () => {
  it('defaults a simulated class', () => {
    expect((created(minimal.MachineClass()) as MachineClass).spec).toEqual({
      sim: { bootSeconds: 5, nodeReadySeconds: 2, failureRate: 0, failureDomains: [] },
    });
  });

  it('defaults an EC2 class to an encrypted 40 GiB gp3 root volume', () => {
    const c = created(withValue(full.awsMachineClass(), 'spec.aws.rootVolume', undefined)) as MachineClass;
    expect(c.spec.aws?.rootVolume).toEqual({ sizeGiB: 40, type: 'gp3', encrypted: true });
  });

  it.each([
    { name: 'neither provider', spec: () => ({}), reason: 'FieldValueRequired' as const, message: 'one of aws, process or sim must be set' },
    {
      name: 'both providers',
      spec: () => ({ sim: {}, ...(full.awsMachineClass()['spec'] as object) }),
      reason: 'FieldValueForbidden' as const,
      message: 'only one of aws, process or sim',
    },
  ])('refuses $name', ({ spec, reason, message }) => {
    expectOnlyCause(createCauses(withValue(minimal.MachineClass(), 'spec', spec())), 'spec', reason, message);
  });

  it.each([
    {
      name: 'no image',
      patch: { imageSsmParameter: undefined },
      reason: 'FieldValueRequired' as const,
      message: 'one of ami or imageSsmParameter must be set',
    },
    { name: 'two images', patch: { ami: 'ami-0123456789abcdef0' }, reason: 'FieldValueForbidden' as const, message: 'only one of ami or imageSsmParameter' },
  ])('refuses $name', ({ patch, reason, message }) => {
    const [[field, value]] = Object.entries(patch) as [[string, unknown]];
    expectOnlyCause(createCauses(aws(field, value)), 'spec.aws.ami', reason, message);
  });

  it.each([
    { field: 'instanceTypes', value: [], message: 'at least one instance type' },
    { field: 'instanceTypes[1]', value: 'large', message: 'EC2 instance type' },
    { field: 'ami', value: 'ubuntu', message: 'AMI id' },
    { field: 'imageSsmParameter', value: 'aws/service/x', message: 'starting with /' },
    { field: 'rootVolume.sizeGiB', value: 4, message: 'greater than or equal to 8' },
    { field: 'spot.maxPrice', value: 'cheap', message: 'price' },
  ])('refuses spec.aws.$field = $value', ({ field, value, message }) => {
    const body = field === 'ami' ? withValue(aws('imageSsmParameter', undefined), 'spec.aws.ami', value) : aws(field, value);
    expectOnlyCause(createCauses(body), `spec.aws.${field}`, 'FieldValueInvalid', message);
  });

  it('refuses an unencrypted root volume', () => {
    expectOnlyCause(
      createCauses(aws('rootVolume.encrypted', false)),
      'spec.aws.rootVolume.encrypted',
      'FieldValueNotSupported',
      'Unsupported value: false: supported values: true',
    );
  });

  it.each(['aws:cloudformation:stack-name', 'clusterless.dev/cluster-name'])('refuses the reserved tag key %s', (key) => {
    const causes = createCauses(aws('additionalTags', { [key]: 'x' }));
    expectOnlyCause(causes, `spec.aws.additionalTags[${key}]`, 'FieldValueForbidden', 'reserved');
  });

  it.each([
    { field: 'failureRate', value: 1.5 },
    { field: 'bootSeconds', value: -1 },
    { field: 'failureDomains[0]', value: 'Zone A' },
  ])('refuses spec.sim.$field = $value', ({ field, value }) => {
    expectOnlyCause(createCauses(withValue(minimal.MachineClass(), `spec.sim.${field}`, value)), `spec.sim.${field}`, 'FieldValueInvalid');
  });
});

/**
 * A MachineClass is immutable once created, as Cluster API's infrastructure machine templates are: a spec change is a
 * 422 naming the field, whose message says the way out (a new class named by the template, which rolls).
 */
describe('MachineClass updates', () => {
  const stored = (body: Record<string, unknown>): ApiObject => {
    const obj = created(body);
    return { ...obj, metadata: { ...obj.metadata, uid: 'u-1', resourceVersion: '7', generation: 1, creationTimestamp: '2025-01-01T00:00:00Z' } };
  };

  it.each([
    { name: 'a simulated boot time', old: () => minimal.MachineClass(), field: 'spec.sim.bootSeconds', value: 9 },
    { name: 'an EC2 instance type list', old: () => full.awsMachineClass(), field: 'spec.aws.instanceTypes', value: ['m7g.xlarge'] },
    { name: 'a root volume size', old: () => full.awsMachineClass(), field: 'spec.aws.rootVolume.sizeGiB', value: 200 },
    { name: 'a tag', old: () => full.awsMachineClass(), field: 'spec.aws.additionalTags.team', value: 'data' },
  ])('refuses a change of $name: 422 on $field, saying to create a new class and point machineClassRef at it', ({ old, field, value }) => {
    // Prepare
    const before = stored(old());
    // Act
    const causes = updateCauses(before, withValue(before, field, value));
    // Assess
    expectOnlyCause(causes, field, 'FieldValueInvalid', MACHINE_CLASS_IMMUTABLE);
    expect(causes[0]!.message).toMatch(/create a new MachineClass .* spec\.template\.spec\.machineClassRef/);
  });

  it('refuses a change of provider on both fields', () => {
    // Prepare
    const before = stored(minimal.MachineClass());
    // Act
    const causes = updateCauses(before, withValue(before, 'spec', full.awsMachineClass()['spec']));
    // Assess
    expect(causes.map((c) => c.field)).toEqual(['spec.aws', 'spec.sim']);
  });

  it('accepts a change of labels and annotations, and the spec sent back as it was or as first applied (defaults left out)', () => {
    // Prepare
    const before = stored(full.awsMachineClass());
    const relabelled = withValue(withValue(before, 'metadata.labels', { tier: 'gpu' }), 'metadata.annotations', { note: 'x' });
    // Act / Assess
    const r = validateUpdate(before, relabelled);
    expect(r.ok && r.object.metadata.labels).toMatchObject({ tier: 'gpu' });
    expect(validateUpdate(before, full.awsMachineClass()).ok).toBe(true);
  });
});
