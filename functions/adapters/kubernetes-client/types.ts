/**
 * The few Kubernetes objects the workload adapters read and write, with only the fields they use. Field names
 * and meaning are the API's (k8s.io/api core/v1, policy/v1, rbac/v1 types.go); timestamps stay the API's RFC 3339
 * strings.
 */

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ListMeta {
  resourceVersion?: string;
  /** The token of the next page; empty or absent on the last. */
  continue?: string;
}

export interface List<T> {
  metadata?: ListMeta;
  items: T[];
}

export interface NodeCondition {
  type: string;
  status: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface Node {
  metadata?: ObjectMeta;
  spec?: { providerID?: string; unschedulable?: boolean };
  status?: { conditions?: NodeCondition[]; nodeInfo?: { kubeletVersion?: string }; volumesAttached?: { name: string; devicePath?: string }[] };
}

export interface Pod {
  metadata?: ObjectMeta;
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

export interface Eviction {
  apiVersion: 'policy/v1';
  kind: 'Eviction';
  metadata: ObjectMeta;
}

export interface Secret {
  apiVersion?: 'v1';
  kind?: 'Secret';
  metadata?: ObjectMeta;
  type?: string;
  /** Values in base64. */
  data?: Record<string, string>;
  /** Values in clear, merged into data by the API server on write. */
  stringData?: Record<string, string>;
}

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

export interface Role {
  apiVersion?: 'rbac.authorization.k8s.io/v1';
  kind?: 'Role';
  metadata: ObjectMeta;
  rules: PolicyRule[];
}

export interface RoleBinding {
  apiVersion?: 'rbac.authorization.k8s.io/v1';
  kind?: 'RoleBinding';
  metadata: ObjectMeta;
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects: { kind: string; apiGroup?: string; name: string; namespace?: string }[];
}

/** The body of a refused call (meta/v1 Status). */
export interface Status {
  kind?: 'Status';
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; retryAfterSeconds?: number; causes?: { reason?: string; message?: string; field?: string }[] };
}
