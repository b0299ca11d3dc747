/**
 * The NodeReader contract: one suite for every reader of workload-cluster nodes (SimNodeReader over the simulated
 * cloud, SimulatedNodes over any provider's instances, KubernetesNodeReader against a real kube-apiserver), so
 * that the planners read the same NodeFacts whichever runs. Like hono's `common.case.test.ts`.
 *
 * What the planners read of a node (functions/core/machine/facts.ts, machineset/machine-health.ts): its
 * providerID, which matches it to its machine's instance (as Cluster API's machine controller finds a node by
 * the providerID index), its name (the Machine's nodeRef) and its conditions. Node labels are read only by the
 * label sync (core/machine/node-labels.ts), and only where a reader reports them (KubernetesNodeReader; the
 * simulated readers report none, so the sync leaves their nodes alone): not part of this contract.
 */
import { describe, expect, it } from 'vitest';
import type { NodeCondition, NodeFact } from '../../functions/core/observed.js';
import { NodeReaderUnavailableError, type NodeReader } from '../../functions/ports.js';

export interface WorkloadCluster {
  namespace: string;
  clusterName: string;
}

export interface NodeConditionReport {
  type: string;
  status: NodeCondition['status'];
  reason: string;
  message: string;
}

export interface NodeReaderHarness {
  reader: NodeReader;
  /** A workload cluster no other case uses, with no nodes yet. */
  newCluster(): Promise<WorkloadCluster>;
  /** A node joins the cluster and its kubelet reports it Ready; returns its providerID. */
  registerNode(cluster: WorkloadCluster): Promise<string>;
  /** The kubelet of the node reports a condition (replacing its earlier one of that type). */
  reportCondition(cluster: WorkloadCluster, providerID: string, condition: NodeConditionReport): Promise<void>;
  /** The node is gone: its instance terminated and the Node object deleted. */
  removeNode(cluster: WorkloadCluster, providerID: string): Promise<void>;
  /** The cluster's workload API cannot be read until the returned function is called. */
  breakReads(cluster: WorkloadCluster): Promise<() => Promise<void>>;
  /**
   * Whether nodes are listed sorted by name, as kube-apiserver lists them. A reader that derives nodes from
   * instances lists them in the instances' order.
   */
  sortedByName: boolean;
}

export type NodeReaderSetup = () => Promise<NodeReaderHarness>;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function byProviderID(nodes: NodeFact[], providerID: string): NodeFact | undefined {
  return nodes.find((n) => n.providerID === providerID);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the read to fail');
}

export function runNodeReaderContract(name: string, setup: NodeReaderSetup): void {
  describe(`NodeReader contract: ${name}`, () => {
    it('lists no nodes for a cluster that has none', async () => {
      // Prepare
      const h = await setup();
      const cluster = await h.newCluster();
      // Act
      const nodes = await h.reader.listNodes(cluster.namespace, cluster.clusterName);
      // Assess
      expect(nodes).toEqual([]);
    });

    it('lists a registered node with its name, a uid, the providerID of its instance and its Ready condition', async () => {
      // Prepare
      const h = await setup();
      const cluster = await h.newCluster();
      const providerID = await h.registerNode(cluster);
      // Act
      const nodes = await h.reader.listNodes(cluster.namespace, cluster.clusterName);
      // Assess
      expect(nodes).toHaveLength(1);
      const node = byProviderID(nodes, providerID);
      expect(node).toMatchObject({ name: expect.stringMatching(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/), uid: expect.any(String), providerID });
      expect(node!.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True', lastTransitionTime: expect.stringMatching(RFC3339) }));
      // One condition of each type, as the planners find them by type.
      const types = node!.conditions.map((c) => c.type);
      expect(new Set(types).size).toBe(types.length);
    });

    it('gives each node its own name, uid and providerID', async () => {
      // Prepare
      const h = await setup();
      const cluster = await h.newCluster();
      const ids = [await h.registerNode(cluster), await h.registerNode(cluster), await h.registerNode(cluster)];
      // Act
      const nodes = await h.reader.listNodes(cluster.namespace, cluster.clusterName);
      // Assess
      expect(nodes.map((n) => n.providerID).sort()).toEqual([...ids].sort());
      expect(new Set(nodes.map((n) => n.name)).size).toBe(3);
      expect(new Set(nodes.map((n) => n.uid)).size).toBe(3);
    });

    it('reports the conditions its kubelet reports: status, reason, message and transition time', async () => {
      // Prepare
      const h = await setup();
      const cluster = await h.newCluster();
      const providerID = await h.registerNode(cluster);
      await h.reportCondition(cluster, providerID, { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'PLEG is not healthy' });
      await h.reportCondition(cluster, providerID, { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'disk is full' });
      // Act
      const node = byProviderID(await h.reader.listNodes(cluster.namespace, cluster.clusterName), providerID);
      // Assess
      expect(node?.conditions).toEqual(
        expect.arrayContaining([
          { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'PLEG is not healthy', lastTransitionTime: expect.stringMatching(RFC3339) },
          {
            type: 'DiskPressure',
            status: 'True',
            reason: 'KubeletHasDiskPressure',
            message: 'disk is full',
            lastTransitionTime: expect.stringMatching(RFC3339),
          },
        ]),
      );
    });

    it('reports a node whose kubelet stopped posting as Ready Unknown', async () => {
      // Prepare
      const h = await setup();
      const cluster = await h.newCluster();
      const providerID = await h.registerNode(cluster);
      await h.reportCondition(cluster, providerID, {
        type: 'Ready',
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: 'Kubelet stopped posting node status.',
      });
      // Act
      const node = byProviderID(await h.reader.listNodes(cluster.namespace, cluster.clusterName), providerID);
      // Assess
      expect(node?.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown' });
    });

    it('does not list a node that is gone: its machine finds no node', async () => {
      // Prepare
      const h = await setup();
      const cluster = await h.newCluster();
      const kept = await h.registerNode(cluster);
      const gone = await h.registerNode(cluster);
      // Act
      await h.removeNode(cluster, gone);
      const nodes = await h.reader.listNodes(cluster.namespace, cluster.clusterName);
      // Assess
      expect(byProviderID(nodes, gone)).toBeUndefined();
      expect(nodes.map((n) => n.providerID)).toEqual([kept]);
    });

    it("lists the nodes of the cluster asked for, never another cluster's", async () => {
      // Prepare
      const h = await setup();
      const [one, two] = [await h.newCluster(), await h.newCluster()];
      const ofOne = await h.registerNode(one);
      const ofTwo = await h.registerNode(two);
      // Act
      const [listedOne, listedTwo] = [await h.reader.listNodes(one.namespace, one.clusterName), await h.reader.listNodes(two.namespace, two.clusterName)];
      // Assess
      expect(listedOne.map((n) => n.providerID)).toEqual([ofOne]);
      expect(listedTwo.map((n) => n.providerID)).toEqual([ofTwo]);
    });

    it('reports an unreadable workload API as NodeReaderUnavailableError (never as no nodes), and reads again once it answers', async () => {
      // Prepare
      const h = await setup();
      const cluster = await h.newCluster();
      const providerID = await h.registerNode(cluster);
      const heal = await h.breakReads(cluster);
      // Act
      const error = await rejection(h.reader.listNodes(cluster.namespace, cluster.clusterName));
      await heal();
      const after = await h.reader.listNodes(cluster.namespace, cluster.clusterName);
      // Assess: the class, and the name the state machines match on.
      expect(error).toBeInstanceOf(NodeReaderUnavailableError);
      expect((error as Error).name).toBe('NodeReaderUnavailableError');
      expect(after.map((n) => n.providerID)).toEqual([providerID]);
    });

    it('lists nodes sorted by name where its sortedByName option says so', async () => {
      // Prepare
      const h = await setup();
      const cluster = await h.newCluster();
      for (let i = 0; i < 4; i++) await h.registerNode(cluster);
      // Act
      const names = (await h.reader.listNodes(cluster.namespace, cluster.clusterName)).map((n) => n.name);
      // Assess
      expect(names).toHaveLength(4);
      if (h.sortedByName) expect(names).toEqual([...names].sort());
    });
  });
}
