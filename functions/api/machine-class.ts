import { z } from 'zod';
import { API_VERSION, dnsLabel } from './common.js';
import { defineKind } from './kind.js';
import { objectMeta } from './meta.js';

/** EC2 launch settings. Every machine cloned from the class gets them. */
export const awsMachineClass = z
  .strictObject({
    /** Tried in order: the next one is used when EC2 has no capacity for the previous. */
    instanceTypes: z
      .array(z.string().regex(/^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type such as m7g.large'))
      .min(1, 'at least one instance type is required'),
    ami: z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id such as ami-0123456789abcdef0').optional(),
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
    spot: z.strictObject({ maxPrice: z.string().regex(/^\d+(\.\d+)?$/, 'must be a price in USD such as 0.05').optional() }).optional(),
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

/** Simulated machines: the default provider of the embedded host and of the scale benchmarks. */
export const simMachineClass = z.strictObject({
  bootSeconds: z.number().min(0).max(86400).default(5),
  nodeReadySeconds: z.number().min(0).max(86400).default(2),
  /** Probability that a launch fails (0 to 1). */
  failureRate: z.number().min(0).max(1).default(0),
  failureDomains: z.array(dnsLabel()).default(() => []),
});

export const machineClassSpec = z
  .strictObject({ aws: awsMachineClass.optional(), sim: simMachineClass.optional() })
  .check((ctx) => {
    const n = (ctx.value.aws ? 1 : 0) + (ctx.value.sim ? 1 : 0);
    if (n !== 1)
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: n === 0 ? 'one of aws or sim must be set' : 'only one of aws or sim may be set',
        params: { reason: n === 0 ? 'FieldValueRequired' : 'FieldValueForbidden' },
      });
  });

export const machineClassSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('MachineClass'),
  metadata: objectMeta,
  spec: machineClassSpec,
  status: z.strictObject({}).optional(),
});
export type MachineClass = z.infer<typeof machineClassSchema>;
export type MachineClassSpec = z.infer<typeof machineClassSpec>;

export const MachineClassKind = defineKind<MachineClass>({
  kind: 'MachineClass',
  plural: 'machineclasses',
  singular: 'machineclass',
  shortNames: ['mc'],
  categories: ['clusterless'],
  schema: machineClassSchema,
  // A class is shared by the clusters of its namespace, like a StorageClass; machines copy it when made.
  clusterNameOf: () => undefined,
  printerColumns: [
    { name: 'Instance-Type', type: 'string', jsonPath: '.spec.aws.instanceTypes[0]' },
    { name: 'Boot-Seconds', type: 'number', jsonPath: '.spec.sim.bootSeconds', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});
