/**
 * Machine labels reaching the Node, as Cluster API's label sync (internal/controllers/machine/
 * machine_controller_noderef.go: getManagedLabels, patchNode).
 */
import { describe, expect, it } from 'vitest';
import {
  LABELS_FROM_MACHINE_ANNOTATION,
  isSyncedLabel,
  nodeLabelPatch,
  planNodeLabelSync,
  syncedLabels,
} from '../../../../functions/core/machine/node-labels.js';
import type { InstanceFact, NodeFact } from '../../../../functions/core/observed.js';
import { machine } from '../machineset/fixtures.js';

describe('isSyncedLabel', () => {
  it.each([
    { key: 'node-role.kubernetes.io/gpu', want: true },
    { key: 'node-role.kubernetes.io', want: false },
    { key: 'sub.node-role.kubernetes.io/gpu', want: false },
    { key: 'node-restriction.kubernetes.io/pool', want: true },
    { key: 'a.b.node-restriction.kubernetes.io/pool', want: true },
    { key: 'node.cluster.x-k8s.io/spot', want: true },
    { key: 'gpu.node.cluster.x-k8s.io/model', want: true },
    { key: 'xnode.cluster.x-k8s.io/spot', want: false },
    { key: 'cluster.x-k8s.io/cluster-name', want: false },
    { key: 'app', want: false },
    { key: 'example.com/node-role.kubernetes.io', want: false },
  ])('$key: $want', ({ key, want }) => {
    expect(isSyncedLabel(key)).toBe(want);
  });

  it('syncedLabels keeps only the keys in the domains', () => {
    expect(syncedLabels({ app: 'x', 'node-role.kubernetes.io/gpu': '', 'node.cluster.x-k8s.io/spot': 'true' })).toEqual({
      'node-role.kubernetes.io/gpu': '',
      'node.cluster.x-k8s.io/spot': 'true',
    });
  });
});

describe('nodeLabelPatch', () => {
  it('adds the synced labels and records their keys, sorted', () => {
    const patch = nodeLabelPatch(
      { app: 'web', 'node.cluster.x-k8s.io/spot': 'true', 'node-role.kubernetes.io/gpu': '' },
      { labels: { 'kubernetes.io/hostname': 'n1' } },
    );
    expect(patch).toEqual({
      labels: { 'node.cluster.x-k8s.io/spot': 'true', 'node-role.kubernetes.io/gpu': '' },
      annotations: { [LABELS_FROM_MACHINE_ANNOTATION]: 'node-role.kubernetes.io/gpu,node.cluster.x-k8s.io/spot' },
    });
  });

  it('changes a value that differs', () => {
    const patch = nodeLabelPatch(
      { 'node.cluster.x-k8s.io/pool': 'b' },
      { labels: { 'node.cluster.x-k8s.io/pool': 'a' }, labelsFromMachine: 'node.cluster.x-k8s.io/pool' },
    );
    expect(patch).toEqual({ labels: { 'node.cluster.x-k8s.io/pool': 'b' }, annotations: {} });
  });

  it('removes a label it put there that the machine no longer has, and the record once none is left', () => {
    const patch = nodeLabelPatch({}, { labels: { 'node.cluster.x-k8s.io/pool': 'a' }, labelsFromMachine: 'node.cluster.x-k8s.io/pool' });
    expect(patch).toEqual({ labels: { 'node.cluster.x-k8s.io/pool': null }, annotations: { [LABELS_FROM_MACHINE_ANNOTATION]: null } });
  });

  it('never removes a label set by hand, even in the synced domains', () => {
    const node = { labels: { 'node.cluster.x-k8s.io/by-hand': 'yes', team: 'a' }, labelsFromMachine: 'node.cluster.x-k8s.io/pool' };
    const patch = nodeLabelPatch({ 'node.cluster.x-k8s.io/pool': 'a' }, node);
    expect(patch).toEqual({ labels: { 'node.cluster.x-k8s.io/pool': 'a' }, annotations: {} });
  });

  it('never removes a key outside the domains, whatever the record lists (a Node writer may edit it)', () => {
    const patch = nodeLabelPatch({}, { labels: { 'kubernetes.io/hostname': 'n1' }, labelsFromMachine: 'kubernetes.io/hostname' });
    expect(patch).toEqual({ labels: {}, annotations: { [LABELS_FROM_MACHINE_ANNOTATION]: null } });
  });

  it('is undefined when the Node is up to date, and for a machine with no synced label and a Node with no record', () => {
    expect(
      nodeLabelPatch(
        { app: 'x', 'node.cluster.x-k8s.io/pool': 'a' },
        { labels: { 'node.cluster.x-k8s.io/pool': 'a' }, labelsFromMachine: 'node.cluster.x-k8s.io/pool' },
      ),
    ).toBeUndefined();
    expect(nodeLabelPatch({ app: 'x' }, { labels: { app: 'y' } })).toBeUndefined();
  });
});

describe('planNodeLabelSync', () => {
  const instance: InstanceFact = { machineUid: 'm1-uid', instanceId: 'i-1', providerID: 'sim:///a/i-1', state: 'running' };
  const node = (opts: Partial<NodeFact> = {}): NodeFact => ({ name: 'm1-node', providerID: 'sim:///a/i-1', conditions: [], labels: {}, ...opts });
  const labelled = machine('m1', { labels: { 'node.cluster.x-k8s.io/spot': 'true' } });

  it("patches the node of the machine's own instance", () => {
    expect(planNodeLabelSync([labelled], { instances: [instance], nodes: [node()] })).toEqual([
      {
        machineName: 'm1',
        nodeName: 'm1-node',
        patch: { labels: { 'node.cluster.x-k8s.io/spot': 'true' }, annotations: { [LABELS_FROM_MACHINE_ANNOTATION]: 'node.cluster.x-k8s.io/spot' } },
      },
    ]);
  });

  it('leaves alone a node a nodeRef names that is not the machine instance', () => {
    const forged = { ...labelled, status: { nodeRef: { name: 'other-node' } } };
    const other = node({ name: 'other-node', providerID: 'sim:///a/i-9' });
    expect(planNodeLabelSync([forged], { instances: [], nodes: [other] })).toEqual([]);
  });

  it('leaves alone nodes whose labels were not read, unread nodes, and machines being deleted', () => {
    const { labels: _l, ...unlabelled } = node();
    expect(planNodeLabelSync([labelled], { instances: [instance], nodes: [unlabelled] })).toEqual([]);
    expect(planNodeLabelSync([labelled], { instances: [instance] })).toEqual([]);
    const deleting = machine('m1', { labels: { 'node.cluster.x-k8s.io/spot': 'true' }, deleting: true });
    expect(planNodeLabelSync([deleting], { instances: [instance], nodes: [node()] })).toEqual([]);
  });
});
