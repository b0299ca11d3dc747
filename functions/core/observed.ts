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
}

/** The control-plane load balancer clusterless made for a cluster (provider aws, no targetGroupArn given). */
export interface LoadBalancerFact {
  name: string;
  dnsName?: string;
  state: 'provisioning' | 'active' | 'active_impaired' | 'failed';
}

/** Everything one observation of a cluster saw. `nodes` is undefined when the workload API could not be read. */
export interface Observed {
  instances: InstanceFact[];
  nodes?: NodeFact[];
  /** The cluster's own load balancer; undefined when there is none (or the provider makes none). */
  loadBalancer?: LoadBalancerFact;
}
