/** Facts observed in the world (provider instances, workload-cluster nodes), as planners consume them. */

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

export interface InstanceFact {
  /** The uid of the Machine the instance was launched for (its clusterless.dev/machine-uid tag). */
  machineUid: string;
  instanceId: string;
  providerID: string;
  state: InstanceState;
  availabilityZone?: string;
  instanceType?: string;
  /** The market the instance runs in (EC2: its clusterless.dev/capacity-type tag); unset where the provider has none. */
  capacityType?: 'on-demand' | 'spot';
  launchTime?: string;
  addresses?: { type: 'InternalIP' | 'ExternalIP' | 'InternalDNS' | 'ExternalDNS' | 'Hostname'; address: string }[];
}

export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

export interface NodeFact {
  name: string;
  uid?: string;
  providerID?: string;
  conditions: NodeCondition[];
  unschedulable?: boolean;
  kubeletVersion?: string;
  /** The Node's labels; undefined where the reader does not report them (the simulator): then they are not synced. */
  labels?: Record<string, string>;
  /** The keys of the labels clusterless put on the Node (core/machine/node-labels.ts: the record annotation). */
  labelsFromMachine?: string;
  /** The names of the volumes attached to the Node (status.volumesAttached); absent or empty when none are. */
  volumesAttached?: string[];
}

/** The control-plane load balancer clusterless made for a cluster (provider aws, no targetGroupArn given). */
export interface LoadBalancerFact {
  name: string;
  dnsName?: string;
  /** The listener's port, when it is not the API server's 6443 (the process provider's proxy on 127.0.0.1). */
  port?: number;
  state: 'provisioning' | 'active' | 'active_impaired' | 'failed';
}

/**
 * One member of a cluster's etcd, as etcd itself reports it (member list, then a status call to each member).
 * Learnt from Cluster API's controlplane/kubeadm/internal/etcd (etcd.go: MemberList, Status, AlarmList).
 */
export interface EtcdMemberFact {
  /** etcd's member id (a uint64, kept as a decimal string: a JSON number would lose its precision). */
  id: string;
  /** The member's name: kubeadm names it after the node. Empty for a member added that has not started yet. */
  name: string;
  learner: boolean;
  /** The member answered a status call in this observation, with no error of its own. */
  healthy: boolean;
  /** The leader, as the members that answered report it. */
  leader: boolean;
  /** Alarms raised on the member (etcd's NOSPACE, CORRUPT), by name. */
  alarms: string[];
  /** Why the member is not healthy, when it is not. */
  message?: string;
}

/** A cluster's etcd as read from etcd: every member it lists. */
export interface EtcdFact {
  members: EtcdMemberFact[];
  /** Set when no member answered: nothing is known of the members then (`members` is empty). */
  error?: string;
}

/** Everything one observation of a cluster saw. `nodes` is undefined when the workload API could not be read. */
export interface Observed {
  instances: InstanceFact[];
  nodes?: NodeFact[];
  /** The cluster's own load balancer; undefined when there is none (or the provider makes none). */
  loadBalancer?: LoadBalancerFact;
  /**
   * The cluster's etcd as etcd reports it (with `error` when no member answered); undefined when its provider runs
   * no etcd the host can reach (the simulator): the planners then infer the members from machines and nodes.
   */
  etcd?: EtcdFact;
}
