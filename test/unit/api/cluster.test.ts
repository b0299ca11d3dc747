import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../../functions/api/cluster.js';
import { createCauses, created, expectOnlyCause, full, minimal, withValue } from './fixtures.js';

const aws = (field: string, value: unknown) => withValue(full.awsCluster(), `spec.provider.aws.${field}`, value);

describe('Cluster provider', () => {
  it('is the simulator when not given', () => {
    expect((created(minimal.Cluster()) as Cluster).spec.provider).toEqual({ sim: { failureDomains: [] } });
  });

  it('defaults an AWS load balancer to internal and security groups to none', () => {
    const c = created(aws('controlPlaneLoadBalancer', {})) as Cluster;
    expect(c.spec.provider.aws?.controlPlaneLoadBalancer).toEqual({ scheme: 'internal' });
    expect((created(aws('securityGroupIds', undefined)) as Cluster).spec.provider.aws?.securityGroupIds).toEqual([]);
  });

  it.each([
    { name: 'no provider', provider: {}, reason: 'FieldValueRequired' as const, message: 'one of sim, aws or process must be set' },
    {
      name: 'two providers',
      provider: { sim: {}, aws: (full.awsCluster().spec as { provider: { aws: unknown } }).provider.aws },
      reason: 'FieldValueForbidden' as const,
      message: 'only one of sim, aws or process',
    },
  ])('refuses $name', ({ provider, reason, message }) => {
    expectOnlyCause(createCauses(withValue(minimal.Cluster(), 'spec.provider', provider)), 'spec.provider', reason, message);
  });

  it.each([
    { field: 'region', value: 'Ireland', message: 'AWS region' },
    { field: 'subnets', value: [], message: 'at least one subnet' },
    { field: 'subnets[0].id', value: 'subnet-1', message: 'subnet id' },
    { field: 'subnets[1].availabilityZone', value: 'eu-west-1', message: 'availability zone' },
    { field: 'securityGroupIds[0]', value: 'default', message: 'security group id' },
    { field: 'controlPlaneLoadBalancer.scheme', value: 'public', message: 'supported values' },
  ])('refuses spec.provider.aws.$field = $value', ({ field, value, message }) => {
    const causes = createCauses(aws(field, value));
    expect(causes).toHaveLength(1);
    expect(causes[0]).toMatchObject({ field: `spec.provider.aws.${field}` });
    expect(causes[0]!.message).toContain(message);
  });

  it('refuses two subnets in one availability zone', () => {
    const causes = createCauses(aws('subnets[1].availabilityZone', 'eu-west-1a'));
    expectOnlyCause(
      causes,
      'spec.provider.aws.subnets[1].availabilityZone',
      'FieldValueDuplicate',
      'Duplicate value: "eu-west-1a": availability zone already has a subnet (subnets[0])',
    );
  });

  it.each([0, 65536, 1.5])('refuses control plane endpoint port %s', (port) => {
    const causes = createCauses(withValue(minimal.Cluster(), 'spec.controlPlaneEndpoint', { host: 'api.example.com', port }));
    expectOnlyCause(causes, 'spec.controlPlaneEndpoint.port', 'FieldValueInvalid');
  });

  it('defaults the control plane endpoint port to 6443', () => {
    const c = created(withValue(minimal.Cluster(), 'spec.controlPlaneEndpoint', { host: 'api.example.com' })) as Cluster;
    expect(c.spec.controlPlaneEndpoint).toEqual({ host: 'api.example.com', port: 6443 });
  });
});
