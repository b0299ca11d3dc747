/** EC2 (adapters/ec2, adapters/elbv2), with the kubeadm bootstrap (adapters/kubeadm). */
import * as z from 'zod';
import { AWS_REGION } from '../aws-region.js';
import { immutable } from '../kind.js';
import { classNodeRegistration } from '../node-registration.js';
import { acceleratedImageParameter, acceleratorOf, isAcceleratedImageParameter, isWindowsImageParameter } from './aws-accelerators.js';
import { defineProvider } from './provider.js';
import { lazySchema } from '../lazy-schema.js';

export const awsSubnet = lazySchema(() =>
  z.strictObject({
    id: z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id such as subnet-0123456789abcdef0'),
    availabilityZone: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'must be an availability zone such as us-east-1a'),
  }),
);

export { AWS_REGION };

export const awsClusterProvider = lazySchema(() =>
  z
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
    }),
);

/** EC2 launch settings. Every machine cloned from the class gets them. */
export const awsMachineClass = lazySchema(() =>
  z
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
      /** The machines' operating system: Linux only (Windows is refused with the reason, see WINDOWS_NOT_SUPPORTED). */
      os: z.enum(['linux', 'windows']).optional(),
      /** Labels and taints the machines' Nodes register with at join (api/node-registration.ts). */
      nodeRegistration: classNodeRegistration.optional(),
    })
    .check((ctx) => {
      const c = ctx.value;
      // An NVIDIA class may leave the image out: it gets the public GPU image (aws-accelerators.ts), below.
      const defaulted = !c.ami && !c.imageSsmParameter && acceleratedImageParameter(c.instanceTypes) !== undefined;
      if (!c.ami === !c.imageSsmParameter && !defaulted)
        ctx.issues.push({
          code: 'custom',
          input: c.ami,
          path: ['ami'],
          message: c.ami ? 'only one of ami or imageSsmParameter may be set' : 'one of ami or imageSsmParameter must be set',
          params: { reason: c.ami ? 'FieldValueForbidden' : 'FieldValueRequired' },
        });
      if (c.os === 'windows')
        ctx.issues.push({ code: 'custom', input: c.os, path: ['os'], message: WINDOWS_NOT_SUPPORTED, params: { reason: 'FieldValueForbidden' } });
      if (c.imageSsmParameter && isWindowsImageParameter(c.imageSsmParameter))
        ctx.issues.push({
          code: 'custom',
          input: c.imageSsmParameter,
          path: ['imageSsmParameter'],
          message: WINDOWS_NOT_SUPPORTED,
          params: { reason: 'FieldValueForbidden' },
        });
      acceleratorCauses(c, ctx);
      for (const k of Object.keys(c.additionalTags))
        if (k.startsWith('aws:') || k.startsWith('clusterless.dev/'))
          ctx.issues.push({
            code: 'custom',
            input: k,
            path: ['additionalTags', k],
            message: 'tag keys starting with aws: or clusterless.dev/ are reserved',
            params: { reason: 'FieldValueForbidden' },
          });
    })
    // An NVIDIA class without an image gets the public GPU image's parameter, written into the class as it is stored.
    .overwrite((c) => {
      const gpuImage = !c.ami && !c.imageSsmParameter ? acceleratedImageParameter(c.instanceTypes) : undefined;
      return gpuImage ? { ...c, imageSsmParameter: gpuImage } : c;
    }),
);

/**
 * Why Windows workers are refused. Note: kubeadm join on Windows Server is another bootstrap (PowerShell, not
 * cloud-init; a Windows kubelet, kube-proxy and CNI, and a Linux control plane beside them: Kubernetes' "Adding
 * Windows worker nodes" for kubeadm), which clusterless does not have yet.
 */
export const WINDOWS_NOT_SUPPORTED =
  'Windows workers are not supported yet: kubeadm join on Windows Server needs a different bootstrap (PowerShell instead of cloud-init, a Windows kubelet, kube-proxy and CNI) that clusterless does not have; use a Linux image';

/**
 * The instance types of a class share one accelerator or none (they share one image, and its driver), and an
 * accelerated image goes with accelerated types only, and the reverse.
 */
function acceleratorCauses(c: { instanceTypes: string[]; imageSsmParameter?: string | undefined }, ctx: z.core.ParsePayload<unknown>): void {
  const first = acceleratorOf(c.instanceTypes[0] ?? '');
  const image = c.imageSsmParameter;
  c.instanceTypes.forEach((t, i) => {
    const a = acceleratorOf(t);
    if (i > 0 && a !== first)
      ctx.issues.push({
        code: 'custom',
        input: t,
        path: ['instanceTypes', i],
        message: `${t} ${a ? `has a ${a} accelerator` : 'has no accelerator'} but ${c.instanceTypes[0]} ${first ? `has a ${first} one` : 'has none'}: the instance types of one class share one image, so they must share one accelerator (or none); use two classes`,
      });
    else if (!a && image && isAcceleratedImageParameter(image))
      ctx.issues.push({
        code: 'custom',
        input: t,
        path: ['instanceTypes', i],
        message: `${t} is not an accelerated instance type, but imageSsmParameter names an accelerated image (${image}); use a GPU or Neuron instance type, or a plain image`,
      });
  });
  if (first && image && !isAcceleratedImageParameter(image))
    ctx.issues.push({
      code: 'custom',
      input: image,
      path: ['imageSsmParameter'],
      message: `names an image without an accelerator driver for ${c.instanceTypes[0]} (a ${first} instance type); name an accelerated image${acceleratedImageParameter(c.instanceTypes) ? ', or leave the image out for the public NVIDIA GPU image' : ''}`,
    });
}

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
