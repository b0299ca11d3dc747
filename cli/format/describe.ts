/**
 * The `describe cluster` tree, like `clusterctl describe cluster`: the Cluster, its ControlPlane and the
 * control-plane Machines, then Workers with each MachineDeployment and its Machines, each row with the
 * READY, SEVERITY, REASON, SINCE and MESSAGE of the object's Ready condition.
 */
import type { Condition } from '../../functions/api/common.js';
import { Labels } from '../../functions/api/common.js';
import type { ApiObject } from '../../functions/api/kind.js';
import type { Colors } from '../io.js';
import { ageOf } from './duration.js';
import { renderTable } from './table.js';

export interface ClusterGraph {
  cluster: ApiObject;
  controlPlanes: ApiObject[];
  machineDeployments: ApiObject[];
  machines: ApiObject[];
}

export interface TreeNode {
  label: string;
  object?: ApiObject;
  children: TreeNode[];
}

const byName = (a: ApiObject, b: ApiObject) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0);

function ownedBy(m: ApiObject, kind: string, name: string): boolean {
  return (m.metadata.ownerReferences ?? []).some((r) => r.kind === kind && r.name === name);
}

/** A control-plane machine: its labels say so (core/controlplane/machines.ts), or its owner does. */
function belongsToControlPlane(m: ApiObject, cp: ApiObject): boolean {
  const labels = m.metadata.labels ?? {};
  if (labels[Labels.controlPlaneName] !== undefined) return labels[Labels.controlPlaneName] === cp.metadata.name;
  return ownedBy(m, 'ControlPlane', cp.metadata.name);
}

function belongsToDeployment(m: ApiObject, md: ApiObject): boolean {
  return m.metadata.labels?.[Labels.deploymentName] === md.metadata.name;
}

/** Arranges a cluster's objects as clusterctl does; machines that belong to nothing listed go under Workers. */
export function clusterTree(graph: ClusterGraph): TreeNode {
  const machines = [...graph.machines].sort(byName);
  const placed = new Set<ApiObject>();
  const take = (pred: (m: ApiObject) => boolean): TreeNode[] =>
    machines
      .filter((m) => !placed.has(m) && pred(m))
      .map((m) => {
        placed.add(m);
        return { label: `Machine/${m.metadata.name}`, object: m, children: [] };
      });
  const controlPlanes = [...graph.controlPlanes].sort(byName).map((cp) => ({
    label: `ControlPlane/${cp.metadata.name}`,
    object: cp,
    children: take((m) => belongsToControlPlane(m, cp)),
  }));
  const deployments = [...graph.machineDeployments].sort(byName).map((md) => ({
    label: `MachineDeployment/${md.metadata.name}`,
    object: md,
    children: take((m) => belongsToDeployment(m, md)),
  }));
  const others = take(() => true);
  const workers = [...deployments, ...others];
  return {
    label: `Cluster/${graph.cluster.metadata.name}`,
    object: graph.cluster,
    children: [...controlPlanes, ...(workers.length > 0 ? [{ label: 'Workers', children: workers }] : [])],
  };
}

/** The condition a row shows: Ready, or Available for kinds that report availability instead. */
export function readyCondition(o: ApiObject | undefined): Condition | undefined {
  const conditions = o?.status?.conditions ?? [];
  return conditions.find((c) => c.type === 'Ready') ?? conditions.find((c) => c.type === 'Available');
}

function colorReady(status: string, severity: string | undefined, colors: Colors): string {
  if (status === 'True') return colors.green(status);
  if (status === 'False') return severity === 'Warning' || severity === 'Info' ? colors.yellow(status) : colors.red(status);
  return status ? colors.yellow(status) : status;
}

/** The tree as rows: tree-drawing prefixes in the NAME column, then the condition columns. */
export function treeRows(root: TreeNode, now: number, colors: Colors): string[][] {
  const rows: string[][] = [];
  const visit = (node: TreeNode, prefix: string, connector: string) => {
    const c = readyCondition(node.object);
    const phase = node.object?.status?.['phase'];
    rows.push([
      `${connector}${node.label}`,
      c ? colorReady(c.status, c.severity, colors) : '',
      c && c.status !== 'True' ? (c.severity ?? '') : '',
      c && c.status !== 'True' ? (c.reason ?? '') : '',
      c ? ageOf(c.lastTransitionTime, now) : '',
      // No condition yet: the phase still says where the object is.
      (c?.message ?? (typeof phase === 'string' && !c ? `phase ${phase}` : '')).replace(/\s*\n\s*/g, ' '),
    ]);
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1;
      visit(child, `${prefix}${last ? '  ' : '│ '}`, `${prefix}${last ? '└─' : '├─'}`);
    });
  };
  visit(root, '', '');
  return rows;
}

export function renderTree(root: TreeNode, now: number, colors: Colors): string {
  // clusterctl's tree uses two spaces between columns.
  return renderTable(['NAME', 'READY', 'SEVERITY', 'REASON', 'SINCE', 'MESSAGE'], treeRows(root, now, colors), { padding: 2, minWidth: 0 });
}
