/**
 * Which of a Machine's labels its Node carries, and the patch that makes it so: Cluster API's label sync
 * (internal/controllers/machine/machine_controller_noderef.go: getManagedLabels and patchNode; the proposal
 * docs/proposals/20220927-label-sync-between-machine-and-nodes.md), written anew. Pure: the adapter applies the patch.
 */
import type { Machine } from '../../api/machine.js';
import type { NodeFact, Observed } from '../observed.js';
import { ownNodeOf } from './facts.js';

/**
 * The Node annotation listing (sorted, comma-separated) the label keys the sync put there, Cluster API's own name,
 * so that a Node that Cluster API managed before keeps its record. Only keys listed here are ever removed.
 */
export const LABELS_FROM_MACHINE_ANNOTATION = 'cluster.x-k8s.io/labels-from-machine';

/** node-role.kubernetes.io/ itself (no subdomains, as Cluster API), and these two with their subdomains. */
const NODE_ROLE_PREFIX = 'node-role.kubernetes.io';
const SYNCED_DOMAINS = ['node-restriction.kubernetes.io', 'node.cluster.x-k8s.io'] as const;

/** Whether a label key is one the sync carries from a Machine to its Node. */
export function isSyncedLabel(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return false;
  const prefix = key.slice(0, slash);
  if (prefix === NODE_ROLE_PREFIX) return true;
  return SYNCED_DOMAINS.some((d) => prefix === d || prefix.endsWith(`.${d}`));
}

/** The labels of a Machine its Node gets. */
export function syncedLabels(labels: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => isSyncedLabel(k)));
}

/**
 * A JSON merge patch of a Node's metadata: a label or annotation set to null is removed. Labels and the annotation
 * only: nothing else of the Node is written.
 */
export interface NodeLabelPatch {
  labels: Record<string, string | null>;
  annotations: Record<string, string | null>;
}

/** What the sync needs of a Node: its labels and the record annotation. */
export type NodeLabelsFact = Pick<NodeFact, 'labels' | 'labelsFromMachine'>;

/** The keys the record annotation lists; only keys in the synced domains count (the Node's writers could add any). */
function recordedKeys(annotation: string | undefined): string[] {
  return (annotation ?? '').split(',').filter((k) => k !== '' && isSyncedLabel(k));
}

/**
 * The patch that brings a Node's labels to the Machine's synced labels, or undefined when it has them already:
 * synced labels added or changed; labels the record lists that the Machine no longer has removed; every other label
 * (set by hand, by the kubelet, by another controller) left alone. The record then lists the synced keys, and is
 * removed when there are none.
 */
export function nodeLabelPatch(machineLabels: Readonly<Record<string, string>> | undefined, node: NodeLabelsFact): NodeLabelPatch | undefined {
  const desired = syncedLabels(machineLabels);
  const current = node.labels ?? {};
  const labels: Record<string, string | null> = {};
  for (const key of recordedKeys(node.labelsFromMachine)) if (!(key in desired) && key in current) labels[key] = null;
  for (const [key, value] of Object.entries(desired)) if (current[key] !== value) labels[key] = value;
  const record = Object.keys(desired).sort().join(',');
  const annotations: Record<string, string | null> = {};
  if ((node.labelsFromMachine ?? '') !== record) annotations[LABELS_FROM_MACHINE_ANNOTATION] = record === '' ? null : record;
  if (Object.keys(labels).length === 0 && Object.keys(annotations).length === 0) return undefined;
  return { labels, annotations };
}

/** One Node to patch, for one Machine. */
export interface NodeLabelSync {
  machineName: string;
  nodeName: string;
  patch: NodeLabelPatch;
}

/**
 * The patches a cluster's Nodes need. A Machine's Node is the one of its own instance (by the providerID of the
 * instance tagged with its uid), never one a nodeRef names: status is writable by any writer of the Machine, and a
 * forged nodeRef must not move labels onto, or off, another machine's Node. Nodes whose labels were not read (the
 * simulator reports none), and machines being deleted, are left alone.
 */
export function planNodeLabelSync(machines: readonly Machine[], observed: Observed): NodeLabelSync[] {
  const out: NodeLabelSync[] = [];
  for (const machine of machines) {
    if (machine.metadata.deletionTimestamp) continue;
    const { node } = ownNodeOf(machine, observed);
    if (!node || node.labels === undefined) continue;
    const patch = nodeLabelPatch(machine.metadata.labels, node);
    if (patch) out.push({ machineName: machine.metadata.name, nodeName: node.name, patch });
  }
  return out;
}
