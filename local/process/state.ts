/**
 * What the process provider keeps in the data folder (`process/state.json`, 0600, written whole and renamed): its
 * instances and load balancers. The processes' own data (certificates, etcd, logs) is under `process/machines/{id}/`.
 */
import { constants, existsSync, readFileSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { NodeTaint } from '../../functions/api/taint.js';
import type { MachineRole } from '../../functions/ports.js';

export type ProcessInstanceState = 'pending' | 'running' | 'stopped' | 'terminated';

export interface ProcessInstance {
  instanceId: string;
  machineUid: string;
  machineName: string;
  namespace: string;
  clusterName: string;
  installationId?: string;
  role: MachineRole;
  version: string;
  state: ProcessInstanceState;
  launchTime: string;
  terminatedAt?: string;
  /** The Node's name, and the etcd member's (kubeadm names the member after the node). */
  nodeName: string;
  /** A control-plane machine's ports on 127.0.0.1. */
  ports?: { etcdClient: number; etcdPeer: number; apiserver: number };
  /** A control-plane machine's kubeadm bootstrap: init starts a new etcd, join adds a member to the running one. */
  bootstrap?: 'init' | 'join';
  /** kubeadm init's objects (kubeadm-config, kube-proxy, CoreDNS) are in the cluster's API. */
  initUploaded?: boolean;
  /** etcd's first start: a new cluster, or the members of the one it joined (kept so that a retry starts alike). */
  etcdJoin?: { state: 'new' | 'existing'; initialCluster: string };
  /** Taints its Node registers with (LaunchSpec.taints), after kubeadm's control-plane taint. */
  taints?: NodeTaint[];
  /** Labels its Node registers with (LaunchSpec.nodeLabels: its class's). */
  nodeLabels?: Record<string, string>;
  /** The processes last started for it (found again after a crash of the host, and killed if still ours). */
  pids?: number[];
  /** When a spot interruption warning was sent for it (the notice's time, on the control plane's clock). */
  interruptionNoticeAt?: string;
  /** When the warning's instance is reclaimed (this host's own time, so that a restart keeps it): its programs are killed. */
  reclaimAt?: string;
}

export interface ProcessLoadBalancer {
  namespace: string;
  clusterName: string;
  installationId?: string;
  port: number;
  /** Instance ids of the registered control-plane machines. */
  targets: string[];
}

export interface ProcessState {
  instances: ProcessInstance[];
  loadBalancers: ProcessLoadBalancer[];
}

export function readState(path: string): ProcessState {
  if (!existsSync(path)) return { instances: [], loadBalancers: [] };
  const s = JSON.parse(readFileSync(path, 'utf8')) as Partial<ProcessState>;
  return { instances: s.instances ?? [], loadBalancers: s.loadBalancers ?? [] };
}

let writes = 0;

export async function writeState(path: string, state: ProcessState): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${writes++}.tmp`;
  const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
  try {
    await handle.writeFile(JSON.stringify(state, null, 1));
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}
