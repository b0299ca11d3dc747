/**
 * The schemas of mixed capacity (MachineDeployment spec.capacity), GPU pools (accelerated instance types, their
 * image, node labels and taints of a class) and the Windows refusal: each bad input is a 422 naming its field.
 */
import { describe, expect, it } from 'vitest';
import type { MachineClass } from '../../../functions/api/machine-class.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import { NVIDIA_IMAGE_SSM_PARAMETER } from '../../../functions/api/providers/aws-accelerators.js';
import { createCauses, created, expectCause, expectOnlyCause, full, minimal, withValue } from './fixtures.js';

const aws = (field: string, value: unknown) => withValue(full.awsMachineClass(), `spec.aws.${field}`, value);
const gpuClass = (patch: Record<string, unknown>) => {
  let body = withValue(full.awsMachineClass(), 'spec.aws.imageSsmParameter', undefined);
  body = withValue(body, 'spec.aws.instanceTypes', ['g5.xlarge', 'g6.xlarge']);
  for (const [k, v] of Object.entries(patch)) body = withValue(body, `spec.aws.${k}`, v);
  return body;
};
const deployment = (capacity: unknown) => withValue(minimal.MachineDeployment(), 'spec.capacity', capacity);

describe('MachineDeployment spec.capacity', () => {
  it('is stored with its defaults: no on-demand base unless given', () => {
    const md = created(deployment({ spotPercentageAboveBase: 80, spotMaxPrice: '0.12', onDemandFallback: { maxMachines: 2 } })) as MachineDeployment;
    expect(md.spec.capacity).toEqual({ onDemandBase: 0, spotPercentageAboveBase: 80, spotMaxPrice: '0.12', onDemandFallback: { maxMachines: 2 } });
  });

  it.each([
    {
      field: 'spotPercentageAboveBase',
      capacity: { spotPercentageAboveBase: 101 },
      reason: 'FieldValueInvalid' as const,
      message: 'less than or equal to 100',
    },
    { field: 'spotPercentageAboveBase', capacity: {}, reason: 'FieldValueRequired' as const, message: undefined },
    {
      field: 'onDemandBase',
      capacity: { onDemandBase: -1, spotPercentageAboveBase: 50 },
      reason: 'FieldValueInvalid' as const,
      message: 'greater than or equal to 0',
    },
    {
      field: 'spotMaxPrice',
      capacity: { spotPercentageAboveBase: 50, spotMaxPrice: 'cheap' },
      reason: 'FieldValueInvalid' as const,
      message: 'price in USD per hour above 0',
    },
    {
      field: 'spotMaxPrice',
      capacity: { spotPercentageAboveBase: 50, spotMaxPrice: '0' },
      reason: 'FieldValueInvalid' as const,
      message: 'price in USD per hour above 0',
    },
    {
      field: 'onDemandFallback.maxMachines',
      capacity: { spotPercentageAboveBase: 50, onDemandFallback: { maxMachines: 0 } },
      reason: 'FieldValueInvalid' as const,
      message: 'greater than or equal to 1',
    },
  ])('refuses spec.capacity.$field in $capacity', ({ field, capacity, reason, message }) => {
    expectOnlyCause(createCauses(deployment(capacity)), `spec.capacity.${field}`, reason, message);
  });
});

describe('GPU pools', () => {
  it('an NVIDIA class without an image gets the public GPU image parameter', () => {
    const c = created(gpuClass({})) as MachineClass;
    expect(c.spec.aws?.imageSsmParameter).toBe(NVIDIA_IMAGE_SSM_PARAMETER);
    expect(NVIDIA_IMAGE_SSM_PARAMETER).toBe('/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id');
  });

  it('keeps the image a GPU class names', () => {
    const c = created(gpuClass({ ami: 'ami-0123456789abcdef0' })) as MachineClass;
    expect(c.spec.aws).toMatchObject({ ami: 'ami-0123456789abcdef0' });
    expect(c.spec.aws?.imageSsmParameter).toBeUndefined();
  });

  it('a Neuron or Graviton GPU class must name its image: there is no default for it', () => {
    for (const types of [['inf2.xlarge'], ['g5g.xlarge']])
      expectOnlyCause(createCauses(gpuClass({ instanceTypes: types })), 'spec.aws.ami', 'FieldValueRequired', 'one of ami or imageSsmParameter');
  });

  it.each([
    { name: 'an accelerated and a plain type', types: ['g5.xlarge', 'm7i.large'], message: 'm7i.large has no accelerator but g5.xlarge has a nvidia one' },
    { name: 'a plain and an accelerated type', types: ['m7i.large', 'p5.48xlarge'], message: 'p5.48xlarge has a nvidia accelerator but m7i.large has none' },
    { name: 'NVIDIA and Neuron types', types: ['g5.xlarge', 'inf2.xlarge'], message: 'share one accelerator' },
  ])('refuses $name in one class, naming the type', ({ types, message }) => {
    expectOnlyCause(createCauses(gpuClass({ instanceTypes: types, ami: 'ami-0123456789abcdef0' })), 'spec.aws.instanceTypes[1]', 'FieldValueInvalid', message);
  });

  it('refuses an accelerated image for non-accelerated types, naming each type', () => {
    const causes = createCauses(aws('imageSsmParameter', NVIDIA_IMAGE_SSM_PARAMETER));
    expect(causes.map((c) => c.field)).toEqual(['spec.aws.instanceTypes[0]', 'spec.aws.instanceTypes[1]']);
    expectCause(causes, 'spec.aws.instanceTypes[0]', 'FieldValueInvalid', 'm7g.large is not an accelerated instance type');
  });

  it('refuses a plain image for accelerated types, naming the image', () => {
    expectOnlyCause(
      createCauses(gpuClass({ imageSsmParameter: '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id' })),
      'spec.aws.imageSsmParameter',
      'FieldValueInvalid',
      'without an accelerator driver',
    );
  });

  it('stores node labels and taints of a class', () => {
    const nodeRegistration = {
      labels: { 'nvidia.com/gpu.present': 'true', 'node.kubernetes.io/pool': 'gpu' },
      taints: [{ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' }],
    };
    const c = created(gpuClass({ nodeRegistration })) as MachineClass;
    expect(c.spec.aws?.nodeRegistration).toEqual(nodeRegistration);
  });

  it.each([
    {
      field: 'labels[node-role.kubernetes.io/gpu]',
      value: { labels: { 'node-role.kubernetes.io/gpu': '' } },
      reason: 'FieldValueForbidden' as const,
      message: 'kubernetes.io',
    },
    { field: 'labels[team]', value: { labels: { team: 'a b' } }, reason: 'FieldValueInvalid' as const, message: 'alphanumeric' },
    {
      field: 'taints[0].effect',
      value: { taints: [{ key: 'nvidia.com/gpu', effect: 'Never' }] },
      reason: 'FieldValueNotSupported' as const,
      message: undefined,
    },
  ])('refuses nodeRegistration.$field', ({ field, value, reason, message }) => {
    expectOnlyCause(createCauses(aws('nodeRegistration', value)), `spec.aws.nodeRegistration.${field}`, reason, message);
  });
});

describe('Windows workers', () => {
  it('refuses os: windows, saying why', () => {
    expectOnlyCause(createCauses(aws('os', 'windows')), 'spec.aws.os', 'FieldValueForbidden', 'kubeadm join on Windows Server needs a different bootstrap');
  });

  it('refuses a Windows image parameter, saying why', () => {
    expectOnlyCause(
      createCauses(aws('imageSsmParameter', '/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base')),
      'spec.aws.imageSsmParameter',
      'FieldValueForbidden',
      'Windows workers are not supported yet',
    );
  });

  it('accepts os: linux', () => {
    expect((created(aws('os', 'linux')) as MachineClass).spec.aws?.os).toBe('linux');
  });
});
