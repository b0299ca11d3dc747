/** EC2 (adapters/ec2, adapters/elbv2), with the kubeadm bootstrap (adapters/kubeadm). */
import * as z from 'zod';
import { AWS_REGION } from '../aws-region.js';
import { immutable } from '../kind.js';
import { defineProvider } from './provider.js';

export const awsSubnet = z.strictObject({
  id: z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id such as subnet-0123456789abcdef0'),
  availabilityZone: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'must be an availability zone such as us-east-1a'),
});

export { AWS_REGION };

export const awsClusterProvider = z
  .strictObject({
    region: z.string().regex(AWS_REGION, 'must be an AWS region such as us-east-1'),
    /** One subnet per availability zone: machines of a zone go to its subnet. */
    subnets: z.array(awsSubnet).min(1, 'at least one subnet is required'),
    securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id such as sg-0123456789abcdef0')).default(() => []),
    controlPlaneLoadBalancer: z
      .strictObject({
        scheme: z.enum(['internet-facing', 'internal']).default('internal'),
        targetGroupArn: z.string().startsWith('arn:', 'must be an ARN').optional(),
      })
      .optional(),
    sshKeyName: z.string().max(255).optional(),
  })
  .check((ctx) => {
    const seen = new Map<string, number>();
    ctx.value.subnets.forEach((s, i) => {
      const first = seen.get(s.availabilityZone);
      if (first !== undefined)
        ctx.issues.push({
          code: 'custom',
          input: s.availabilityZone,
          path: ['subnets', i, 'availabilityZone'],
          message: `availability zone already has a subnet (subnets[${first}])`,
          params: { reason: 'FieldValueDuplicate', value: s.availabilityZone },
        });
      else seen.set(s.availabilityZone, i);
    });
  });

/** EC2 launch settings. Every machine cloned from the class gets them. */
export const awsMachineClass = z
  .strictObject({
    /** Tried in order: the next one is used when EC2 has no capacity for the previous. */
    instanceTypes: z
      .array(z.string().regex(/^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type such as m7g.large'))
      .min(1, 'at least one instance type is required'),
    ami: z
      .string()
      .regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id such as ami-0123456789abcdef0')
      .optional(),
    /** An SSM parameter that holds the AMI id, resolved at launch (e.g. an EKS-optimised or Ubuntu image). */
    imageSsmParameter: z.string().max(2048).startsWith('/', 'must be an SSM parameter name starting with /').optional(),
    iamInstanceProfile: z.string().min(1).max(128).optional(),
    rootVolume: z
      .strictObject({
        sizeGiB: z.number().int().min(8).max(16384).default(40),
        type: z.enum(['gp3', 'gp2', 'io1', 'io2']).default('gp3'),
        /** Always on: clusterless refuses unencrypted volumes. */
        encrypted: z.literal(true).default(true),
      })
      .prefault({}),
    spot: z
      .strictObject({
        maxPrice: z
          .string()
          .regex(/^\d+(\.\d+)?$/, 'must be a price in USD such as 0.05')
          .optional(),
      })
      .optional(),
    additionalTags: z.record(z.string().min(1).max(128), z.string().max(256)).default(() => ({})),
    /** Restricts the availability zones the machines may use; empty means every zone of the cluster. */
    failureDomains: z.array(z.string().min(1)).default(() => []),
  })
  .check((ctx) => {
    const c = ctx.value;
    if (!c.ami === !c.imageSsmParameter)
      ctx.issues.push({
        code: 'custom',
        input: c.ami,
        path: ['ami'],
        message: c.ami ? 'only one of ami or imageSsmParameter may be set' : 'one of ami or imageSsmParameter must be set',
        params: { reason: c.ami ? 'FieldValueForbidden' : 'FieldValueRequired' },
      });
    for (const k of Object.keys(c.additionalTags))
      if (k.startsWith('aws:') || k.startsWith('clusterless.dev/'))
        ctx.issues.push({
          code: 'custom',
          input: k,
          path: ['additionalTags', k],
          message: 'tag keys starting with aws: or clusterless.dev/ are reserved',
          params: { reason: 'FieldValueForbidden' },
        });
  });

export const awsProvider = defineProvider({
  name: 'aws',
  clusterSchema: awsClusterProvider,
  machineClassSchema: awsMachineClass,
  failureDomains: (settings) => [...new Set(settings.subnets.map((s) => s.availabilityZone))],
  classFailureDomains: (settings) => settings.failureDomains ?? [],
  validateUpdate: (oldSettings, newSettings) => immutable('spec.provider.aws.region', oldSettings.region, newSettings.region),
  kubeadmBootstrap: true,
  controlPlaneLoadBalancer: (settings) =>
    settings.controlPlaneLoadBalancer && {
      scheme: settings.controlPlaneLoadBalancer.scheme,
      subnetIds: settings.subnets.map((s) => s.id),
      ...(settings.controlPlaneLoadBalancer.targetGroupArn !== undefined ? { targetGroupArn: settings.controlPlaneLoadBalancer.targetGroupArn } : {}),
    },
  machineClassPrinterColumns: [{ name: 'Instance-Type', type: 'string', jsonPath: '.spec.aws.instanceTypes[0]' }],
});
