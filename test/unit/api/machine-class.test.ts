import { describe, expect, it } from 'vitest';
import type { MachineClass } from '../../../functions/api/machine-class.js';
import { createCauses, created, expectOnlyCause, full, minimal, withValue } from './fixtures.js';

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
