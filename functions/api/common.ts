import { z } from 'zod';

/** The API group and version every clusterless kind is served under. */
export const GROUP = 'clusterless.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Labels and annotations, Cluster API's under our own domain (cluster.x-k8s.io -> clusterless.dev). */
export const Labels = {
  clusterName: 'clusterless.dev/cluster-name',
  deploymentName: 'clusterless.dev/deployment-name',
  setName: 'clusterless.dev/set-name',
  controlPlane: 'clusterless.dev/control-plane',
  controlPlaneName: 'clusterless.dev/control-plane-name',
  templateHash: 'clusterless.dev/template-hash',
  healthCheckName: 'clusterless.dev/machine-health-check',
} as const;

/**
 * Finalizers the API puts on objects that need teardown, so that DELETE only marks them (deletionTimestamp)
 * and the workflows remove them when their machines and infrastructure are gone.
 */
export const Finalizers = {
  cluster: 'clusterless.dev/cluster',
  controlPlane: 'clusterless.dev/control-plane',
  machineDeployment: 'clusterless.dev/machine-deployment',
  machineSet: 'clusterless.dev/machine-set',
  machine: 'clusterless.dev/machine',
} as const;

export const Annotations = {
  revision: 'clusterless.dev/revision',
  revisionHistory: 'clusterless.dev/revision-history',
  deleteMachine: 'clusterless.dev/delete-machine',
  remediateMachine: 'clusterless.dev/remediate-machine',
  skipRemediation: 'clusterless.dev/skip-remediation',
  paused: 'clusterless.dev/paused',
  desiredReplicas: 'clusterless.dev/desired-replicas',
  maxReplicas: 'clusterless.dev/max-replicas',
} as const;

/** RFC 1123 label: what Kubernetes accepts as a namespace or a name of these kinds. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain, used as the optional prefix of label and annotation keys. */
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** The name part of a qualified key and the syntax of a label value. */
export const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export const dnsLabel = (what = 'name') =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(63, `${what} must be no more than 63 characters`)
    .regex(DNS1123_LABEL, `${what} must be an RFC 1123 label: lower case alphanumeric characters or '-', starting and ending with an alphanumeric character`);

/** A Kubernetes version as Cluster API accepts it: vMAJOR.MINOR.PATCH (pre-release and build suffixes allowed). */
export const SEMVER = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
export const kubernetesVersion = z
  .string()
  .regex(SEMVER, 'must be a Kubernetes version of the form vMAJOR.MINOR.PATCH, for example v1.31.2');

export interface ParsedVersion {
  major: number;
  minor: number;
  patch: number;
  pre?: string;
}

export function parseVersion(v: string): ParsedVersion | undefined {
  const m = SEMVER.exec(v);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), ...(m[4] ? { pre: m[4].slice(1) } : {}) };
}

/** Compares two versions: negative when a < b. Pre-releases sort before their release, as semver says. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) return a.localeCompare(b);
  if (x.major !== y.major) return x.major - y.major;
  if (x.minor !== y.minor) return x.minor - y.minor;
  if (x.patch !== y.patch) return x.patch - y.patch;
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre.localeCompare(y.pre);
}

/** An int >= 0 or a percentage from 0% to 100%, as Kubernetes' IntOrString for surge and unavailability. */
export const PERCENT = /^(100|[1-9]?[0-9])%$/;
export const intOrPercent = z.union([
  z.number().int('must be an integer').min(0, 'must be greater than or equal to 0'),
  z.string().regex(PERCENT, 'must be an integer or a percentage between 0% and 100%'),
]);
export type IntOrPercent = z.infer<typeof intOrPercent>;

/**
 * Resolves an int-or-percent against a total, rounding up or down as Kubernetes' intstr
 * GetScaledValueFromIntOrPercent does (maxSurge rounds up, maxUnavailable down).
 */
export function scaledValue(value: IntOrPercent, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const pct = Number(value.slice(0, -1));
  const raw = (pct * total) / 100;
  return roundUp ? Math.ceil(raw) : Math.floor(raw);
}

/**
 * Go duration strings as metav1.Duration carries them in Cluster API (v1beta1): "90s", "10m", "1h30m", "1.5h".
 */
const DURATION = /^(\d+(\.\d+)?(h|m|s|ms))+$/;
export const duration = z.string().regex(DURATION, 'must be a duration such as 300s, 10m or 1h30m');

export function durationSeconds(d: string): number {
  let total = 0;
  for (const m of d.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : n / 1000;
  }
  return total;
}

export const ConditionStatus = z.enum(['True', 'False', 'Unknown']);

export const condition = z.strictObject({
  type: z.string().min(1).max(316),
  status: ConditionStatus,
  reason: z.string().max(1024).optional(),
  message: z.string().max(32768).optional(),
  severity: z.enum(['Error', 'Warning', 'Info', '']).optional(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().min(0).optional(),
});
export type Condition = z.infer<typeof condition>;

export const conditions = z.array(condition);

/** A reference to an object of this API in the same namespace. */
export const localObjectReference = z.strictObject({ name: dnsLabel() });
export type LocalObjectReference = z.infer<typeof localObjectReference>;

/** A label selector as metav1.LabelSelector. */
export const labelSelector = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.strictObject({
        key: z.string().min(1),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});
export type LabelSelector = z.infer<typeof labelSelector>;

/** True when the labels satisfy the selector. An empty selector matches everything, as in Kubernetes. */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const val = l[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(val!)) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(val!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** The string form Kubernetes puts in status.selector (for `kubectl scale` and HPA). */
export function selectorString(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const vals = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${vals})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.join(',');
}
