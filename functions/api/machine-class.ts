import * as z from 'zod';
import { API_VERSION } from './common.js';
import { cause, defineKind, jsonEqual, type FieldCause } from './kind.js';
import { objectMeta } from './meta.js';
import { machineClassPrinterColumns, machineClassSpec } from './providers/index.js';
import { lazySchema } from './lazy-schema.js';

/** What machines of the class are: `{ <provider>: {...} }`, one registered provider (api/providers). */
export { machineClassSpec, type MachineClassSpec } from './providers/index.js';

export const machineClassSchema = lazySchema(() =>
  z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('MachineClass'),
    metadata: objectMeta,
    spec: machineClassSpec,
    status: z.strictObject({}).optional(),
  }),
);
export type MachineClass = z.infer<typeof machineClassSchema>;

/**
 * What users are told when they change a class's spec: the way out. A class is immutable, as Cluster API's
 * infrastructure machine templates are (cluster-api-provider-aws api/v1beta2/awsmachinetemplate_webhook.go
 * ValidateUpdate: "AWSMachineTemplate.Spec is immutable"): machines copy their class when they are made, so an edit
 * would leave a fleet of old and new settings. A new class named by the template rolls.
 */
export const MACHINE_CLASS_IMMUTABLE =
  "field is immutable: a MachineClass cannot change once created; create a new MachineClass with these settings and point the MachineDeployment's spec.template.spec.machineClassRef (or the ControlPlane's spec.machineClassRef) at it, which rolls out new machines";

/** One cause per leaf of `spec` that differs (a list counts as one leaf), named by its dotted path. */
function specChanges(path: string, before: unknown, after: unknown): FieldCause[] {
  if (jsonEqual(before, after)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => specChanges(`${path}.${k}`, before[k], after[k]));
  }
  return [cause.invalid(path, after, MACHINE_CLASS_IMMUTABLE)];
}

export const MachineClassKind = defineKind<MachineClass>({
  kind: 'MachineClass',
  plural: 'machineclasses',
  singular: 'machineclass',
  shortNames: ['mc'],
  categories: ['clusterless'],
  schema: machineClassSchema,
  // A class is shared by the clusters of its namespace, like a StorageClass; machines copy it when made.
  clusterNameOf: () => undefined,
  // Metadata (labels, annotations) stays editable; the spec is what machines are made of.
  validateUpdate: (a, b) => specChanges('spec', a.spec, b.spec),
  printerColumns: [...machineClassPrinterColumns, { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
});
