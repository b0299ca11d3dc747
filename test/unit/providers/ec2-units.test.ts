/** The pure parts of the ec2 adapter: error mapping, attempt tokens and tags. The adapter itself runs on moto (integration). */
import { randomUUID } from 'node:crypto';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { attemptToken } from '../../../functions/adapters/ec2/ec2-machine-provider.js';
import { toProviderError } from '../../../functions/adapters/aws/errors.js';
import { machineTags } from '../../../functions/adapters/ec2/instance-tags.js';
import {
  InstanceNotFoundError,
  InsufficientCapacityError,
  InvalidSpecError,
  QuotaExceededError,
  ThrottledError,
} from '../../../functions/ports.js';
import { simSpec } from './sim-fixtures.js';

function awsError(code: string, httpStatusCode = 400): EC2ServiceException {
  const e = new EC2ServiceException({ name: code, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode }, message: `injected ${code}` });
  return Object.assign(e, { Code: code });
}

describe('toProviderError', () => {
  it.each([
    { code: 'RequestLimitExceeded', type: ThrottledError },
    { code: 'Throttling', type: ThrottledError },
    { code: 'InternalError', type: ThrottledError, status: 500 },
    { code: 'Unavailable', type: ThrottledError, status: 503 },
    { code: 'InsufficientInstanceCapacity', type: InsufficientCapacityError },
    { code: 'InsufficientHostCapacity', type: InsufficientCapacityError },
    { code: 'Unsupported', type: InsufficientCapacityError },
    { code: 'InsufficientFreeAddressesInSubnet', type: InsufficientCapacityError },
    { code: 'InstanceLimitExceeded', type: QuotaExceededError },
    { code: 'VcpuLimitExceeded', type: QuotaExceededError },
    { code: 'MaxSpotInstanceCountExceeded', type: QuotaExceededError },
    { code: 'InvalidAMIID.NotFound', type: InvalidSpecError },
    { code: 'InvalidAMIID.Malformed', type: InvalidSpecError },
    { code: 'InvalidSubnetID.NotFound', type: InvalidSpecError },
    { code: 'InvalidParameterValue', type: InvalidSpecError },
    { code: 'InvalidGroup.NotFound', type: InvalidSpecError },
    { code: 'UnauthorizedOperation', type: InvalidSpecError },
    { code: 'IdempotentParameterMismatch', type: InvalidSpecError },
    { code: 'InvalidInstanceID.NotFound', type: InstanceNotFoundError },
  ])('maps $code to $type.name, keeping the cause', ({ code, type, status }) => {
    const error = awsError(code, status);
    const mapped = toProviderError(error) as Error;
    expect(mapped).toBeInstanceOf(type);
    expect(mapped.name).toBe(type.name);
    expect(mapped.cause).toBe(error);
    expect(mapped.message).toContain(code);
  });

  it.each([
    { name: 'an unknown AWS code', error: awsError('SomethingNew') },
    { name: 'a plain Error', error: new Error('bug') },
    { name: 'a non-error', error: 'text' },
  ])('passes $name through', ({ error }) => {
    expect(toProviderError(error)).toBe(error);
  });
});

describe('attemptToken', () => {
  it('is deterministic, at most 64 characters, and differs per instance type and subnet', () => {
    const base = randomUUID();
    const t = attemptToken(base, 'm7g.large', 'subnet-a');
    expect(t).toBe(attemptToken(base, 'm7g.large', 'subnet-a'));
    expect(t.length).toBeLessThanOrEqual(64);
    expect(new Set([t, attemptToken(base, 'c7g.large', 'subnet-a'), attemptToken(base, 'm7g.large', 'subnet-b'), attemptToken(randomUUID(), 'm7g.large', 'subnet-a')]).size).toBe(4);
  });
});

describe('machineTags', () => {
  it('tags installation, cluster, machine uid, name and role, kubernetes ownership and the additional tags, which cannot override ours but may set Name', () => {
    const spec = simSpec({
      namespace: 'team-a',
      clusterName: 'prod',
      machineName: 'prod-md-x',
      machineUid: 'uid-1',
      machineClass: { aws: { instanceTypes: ['m7g.large'], ami: 'ami-0123456789abcdef0', additionalTags: { 'cost-center': '42', Name: 'custom' } } },
    });
    expect(machineTags(spec, 'install-1')).toEqual({
      'clusterless.dev/installation': 'install-1',
      'clusterless.dev/cluster': 'team-a/prod',
      'clusterless.dev/machine-uid': 'uid-1',
      'clusterless.dev/machine-name': 'prod-md-x',
      'clusterless.dev/role': 'worker',
      'kubernetes.io/cluster/prod': 'owned',
      'cost-center': '42',
      Name: 'custom',
    });
    expect(machineTags({ ...spec, machineClass: { aws: { ...spec.machineClass.aws!, additionalTags: {} } } }, 'install-1').Name).toBe('prod-md-x');
  });
});
