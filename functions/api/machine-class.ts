import * as z from 'zod';
import { API_VERSION } from './common.js';
import { defineKind } from './kind.js';
import { objectMeta } from './meta.js';
import { machineClassPrinterColumns, machineClassSpec } from './providers/index.js';

/** What machines of the class are: `{ <provider>: {...} }`, one registered provider (api/providers). */
export { machineClassSpec, type MachineClassSpec } from './providers/index.js';

export const machineClassSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('MachineClass'),
  metadata: objectMeta,
  spec: machineClassSpec,
  status: z.strictObject({}).optional(),
});
export type MachineClass = z.infer<typeof machineClassSchema>;

export const MachineClassKind = defineKind<MachineClass>({
  kind: 'MachineClass',
  plural: 'machineclasses',
  singular: 'machineclass',
  shortNames: ['mc'],
  categories: ['clusterless'],
  schema: machineClassSchema,
  // A class is shared by the clusters of its namespace, like a StorageClass; machines copy it when made.
  clusterNameOf: () => undefined,
  printerColumns: [...machineClassPrinterColumns, { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
});
