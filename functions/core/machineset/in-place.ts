/**
 * In-place propagation from a MachineSet to its Machines: the template's labels, annotations and teardown
 * timeouts (node drain, volume detach, node deletion) reach the machines the set already has, without a new machine. What a machine is (version, class,
 * failure domain) is never touched here: a change of those is a rollout (machinedeployment/template-hash.ts).
 *
 * Learnt from cluster-api internal/controllers/machineset/machineset_controller.go (syncMachines and
 * computeDesiredMachine): a machine being deleted only gets the timeouts that govern its teardown; the others
 * get the template's labels and annotations as well. Cluster API drops a label removed from the template through
 * Server-Side Apply's field ownership; without it, the keys a set put on a machine are recorded on the machine
 * (the two annotations below, comma-separated, as Cluster API's labels-from-machine annotation on Nodes), so that
 * a key removed from the template is removed from the machine while labels and annotations others set stay.
 */
import { Labels } from '../../api/common.js';
import type { Machine } from '../../api/machine.js';
import type { MachineSet } from '../../api/machine-set.js';
import { withTeardownTimeouts } from '../machine/deletion.js';
import { compileHasAll } from './selector.js';

/** The label keys a MachineSet's template put on the machine. */
export const LABELS_FROM_TEMPLATE = 'clusterless.dev/labels-from-template';
/** The annotation keys a MachineSet's template put on the machine. */
export const ANNOTATIONS_FROM_TEMPLATE = 'clusterless.dev/annotations-from-template';

function keysOf(list: string | undefined): string[] {
  return list ? list.split(',').filter((k) => k.length > 0) : [];
}

function without(map: Record<string, string> | undefined, keys: readonly string[]): Record<string, string> {
  const out = { ...map };
  for (const k of keys) delete out[k];
  return out;
}

/** The labels a machine of `ms` carries by being its machine, on top of the template's. */
export function ownerLabels(ms: MachineSet): Record<string, string> {
  const out: Record<string, string> = { [Labels.clusterName]: ms.spec.clusterName, [Labels.setName]: ms.metadata.name };
  const deployment = ms.metadata.labels?.[Labels.deploymentName];
  if (deployment !== undefined) out[Labels.deploymentName] = deployment;
  return out;
}

/**
 * The labels and annotations of a machine of `ms`: `labels` and `annotations` (what the machine has, or starts
 * with) less the keys an earlier template put there, plus the template's and the owner labels, and the record of
 * the template's keys.
 */
export function templateMetadata(
  ms: MachineSet,
  labels: Record<string, string> | undefined,
  annotations: Record<string, string> | undefined,
): { labels: Record<string, string>; annotations: Record<string, string> } {
  const t = ms.spec.template.metadata;
  const own = ownerLabels(ms);
  // The owner labels and the set's template-hash never change for a machine of the set: not recorded, so that a
  // template without labels of its own leaves no record on its machines (nor a write on each at upgrade).
  const labelKeys = Object.keys(t.labels ?? {})
    .filter((k) => !(k in own) && k !== Labels.templateHash)
    .sort();
  const annotationKeys = Object.keys(t.annotations ?? {})
    .filter((k) => k !== LABELS_FROM_TEMPLATE && k !== ANNOTATIONS_FROM_TEMPLATE)
    .sort();
  const outLabels = { ...without(labels, keysOf(annotations?.[LABELS_FROM_TEMPLATE])), ...t.labels, ...own };
  const outAnnotations = without(annotations, [...keysOf(annotations?.[ANNOTATIONS_FROM_TEMPLATE]), LABELS_FROM_TEMPLATE, ANNOTATIONS_FROM_TEMPLATE]);
  for (const k of annotationKeys) outAnnotations[k] = t.annotations![k]!;
  if (labelKeys.length > 0) outAnnotations[LABELS_FROM_TEMPLATE] = labelKeys.join(',');
  if (annotationKeys.length > 0) outAnnotations[ANNOTATIONS_FROM_TEMPLATE] = annotationKeys.join(',');
  return { labels: outLabels, annotations: outAnnotations };
}

/**
 * `machine` with the in-place fields of its MachineSet's template, or undefined when it has them already. A
 * deleting machine only gets the teardown timeouts (its teardown reads them); its labels no longer matter.
 */
export function machineInPlace(machine: Machine, ms: MachineSet): Machine | undefined {
  return compileInPlace(ms)(machine);
}

/**
 * machineInPlace for every machine of `ms`, with what depends on the set alone worked out once. A machine that has
 * the template already (the common case: every machine of a steady set) is recognised without building the
 * labels and annotations it would get; anything else takes the full path, so the result is machineInPlace's.
 */
export function compileInPlace(ms: MachineSet): CompiledInPlace {
  const t = ms.spec.template;
  const expected = templateMetadata(ms, undefined, undefined);
  // Every label the machine must carry with this value (the owner labels win over the template's, as above).
  const labelPairs = { ...t.metadata.labels, ...ownerLabels(ms) };
  const labelKeys = Object.keys(labelPairs);
  const hasLabels = compileHasAll(
    labelKeys,
    labelKeys.map((k) => labelPairs[k]!),
  );
  const labelRecord = expected.annotations[LABELS_FROM_TEMPLATE];
  const annotationRecord = expected.annotations[ANNOTATIONS_FROM_TEMPLATE];
  const annotationKeys = keysOf(annotationRecord);
  // The record's keys are the template's own annotation keys: each has a value.
  const hasAnnotations = compileHasAll(
    annotationKeys,
    annotationKeys.map((k) => t.metadata.annotations![k]!),
  );
  const timeouts = t.spec;
  const sameTimeouts = (spec: Machine['spec']): boolean =>
    spec.nodeDrainTimeoutSeconds === timeouts.nodeDrainTimeoutSeconds &&
    spec.nodeVolumeDetachTimeoutSeconds === timeouts.nodeVolumeDetachTimeoutSeconds &&
    spec.nodeDeletionTimeoutSeconds === timeouts.nodeDeletionTimeoutSeconds;
  // With the records equal to the template's keys, the keys templateMetadata removes are the ones it puts back,
  // so the machine is unchanged when every key it puts has its value already. An empty annotations object is
  // dropped by the full path: not unchanged.
  const hasTemplate = (m: Machine): boolean => {
    const labels = m.metadata.labels;
    const annotations = m.metadata.annotations;
    if (annotations?.[LABELS_FROM_TEMPLATE] !== labelRecord || annotations?.[ANNOTATIONS_FROM_TEMPLATE] !== annotationRecord) return false;
    if (!hasLabels(labels) || !hasAnnotations(annotations)) return false;
    return annotations === undefined || hasKeys(annotations);
  };
  const inPlace = (machine: Machine) => {
    if (sameTimeouts(machine.spec) && (machine.metadata.deletionTimestamp !== undefined || hasTemplate(machine))) return undefined;
    return fullInPlace(machine, ms);
  };
  // A machine that is not deleting and needs no write carries every label of labelPairs with its value (the quick
  // check reads them all; the full path found its labels equal to templateMetadata's, which has them): it carries
  // every template label with the template's value too unless an owner label overrides one with another value.
  const templateLabels = t.metadata.labels ?? {};
  const templateLabelsImplied = Object.keys(templateLabels).every((k) => labelPairs[k] === templateLabels[k]);
  return Object.assign(inPlace, { templateLabelsImplied });
}

/** machineInPlace of one MachineSet (compileInPlace). */
export interface CompiledInPlace {
  (machine: Machine): Machine | undefined;
  /**
   * A machine that is not deleting and for which this returns undefined has every label of the set's template with
   * the template's value (MachineSet status.fullyLabeledReplicas counts those) without reading its labels again.
   */
  readonly templateLabelsImplied: boolean;
}

function hasKeys(map: Readonly<Record<string, string>>): boolean {
  for (const _ in map) return true;
  return false;
}

function fullInPlace(machine: Machine, ms: MachineSet): Machine | undefined {
  const spec = withTeardownTimeouts(machine.spec, ms.spec.template.spec);
  let metadata = machine.metadata;
  if (machine.metadata.deletionTimestamp === undefined) {
    const { labels, annotations } = templateMetadata(ms, machine.metadata.labels, machine.metadata.annotations);
    const { annotations: _old, ...rest } = machine.metadata;
    metadata = { ...rest, labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) };
  }
  // Only the labels, the annotations and the teardown timeouts can differ from the machine's own: compared field
  // by field, as JSON would compare them (a key with an undefined value is no key). A whole-object canonical JSON
  // of every machine made this the planner's hot spot at 50,000 machines (bench/plan.ts).
  const unchanged =
    TEARDOWN_FIELDS.every((f) => spec[f] === machine.spec[f]) &&
    (metadata === machine.metadata ||
      (sameStringMap(metadata.labels, machine.metadata.labels) && sameStringMap(metadata.annotations, machine.metadata.annotations)));
  return unchanged ? undefined : { ...machine, metadata, spec };
}

const TEARDOWN_FIELDS = ['nodeDrainTimeoutSeconds', 'nodeVolumeDetachTimeoutSeconds', 'nodeDeletionTimeoutSeconds'] as const;

/** Two label or annotation maps equal as JSON documents: the same keys with defined values, the same values. */
export function sameStringMap(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  let defined = 0;
  for (const k in a) {
    const v = a[k];
    if (v === undefined) continue;
    if (b[k] !== v) return false;
    defined++;
  }
  for (const k in b) if (b[k] !== undefined) defined--;
  return defined === 0;
}
