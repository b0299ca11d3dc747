// A namespace import, as in every file of api/: esbuild then bundles only the zod the schemas use; `import { z }`
// bundles all of it, its 64 locales included (bench/coldstart.ts).
import * as z from 'zod';
import { DNS1123_LABEL, DNS1123_LABEL_MAX, DNS1123_SUBDOMAIN, DNS1123_SUBDOMAIN_MAX, dnsLabelError } from './dns-names.js';
import type { FieldCause } from './kind.js';

/** The API group and version every clusterless kind is served under. */
import { API_VERSION, GROUP, VERSION } from './group-version.js';
import { lazySchema } from './lazy-schema.js';

export { API_VERSION, GROUP, VERSION };

/** A JSON object: not null, not an array. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

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
  /** MachineSet preflight checks to skip, comma separated, or All (Cluster API's machineset.cluster.x-k8s.io/skip-preflight-checks). */
  skipPreflightChecks: 'clusterless.dev/skip-preflight-checks',
  paused: 'clusterless.dev/paused',
  /**
   * The failure domain a MachineSet spread a machine to. Unlike spec.failureDomain (a pin, as in Cluster API),
   * it is a preference: the provider starts there and falls back to another zone when it has no capacity.
   */
  preferredFailureDomain: 'clusterless.dev/preferred-failure-domain',
  desiredReplicas: 'clusterless.dev/desired-replicas',
  maxReplicas: 'clusterless.dev/max-replicas',
} as const;

/**
 * Custom issues may carry the Kubernetes cause type and the offending value in `params`, so that
 * issuesToCauses (validate.ts) reports e.g. `Forbidden` rather than `Invalid value`, or shows a value that
 * came from a default rather than from the request.
 */
export interface IssueParams {
  reason?: FieldCause['reason'];
  value?: unknown;
}

/**
 * Replica counts are int32 in Kubernetes and in Cluster API (MachineDeploymentSpec.Replicas, MachineSetSpec,
 * KubeadmControlPlaneSpec: *int32), so no count above this is a valid spec, whatever the installation allows.
 */
export const INT32_MAX = 2_147_483_647;

/** A replica count: a non-negative int32. */
export const replicaCount = () =>
  z.number().int('must be an integer').min(0, 'must be greater than or equal to 0').max(INT32_MAX, `must be less than or equal to ${INT32_MAX}`);

// ---------------------------------------------------------------------------------------------------------
// Names, label keys and values (Kubernetes' apimachinery validation rules, restated).

// The RFC 1123 rules live in dns-names.ts, without zod, so that a function that only checks a name (instance-events)
// does not bundle zod: this module builds zod schemas when it loads, which esbuild cannot leave out.
export { DNS1123_LABEL, DNS1123_LABEL_MAX, DNS1123_SUBDOMAIN, DNS1123_SUBDOMAIN_MAX, dnsLabelError, dnsSubdomainError } from './dns-names.js';

/** The name part of a qualified key and the syntax of a label value. */
export const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/**
 * A name or namespace: an RFC 1123 label. One check, so a bad value gives one cause rather than one per
 * rule it breaks. The regex and bounds are also declared for the JSON schema (CRDs, OpenAPI).
 */
export const dnsLabel = (description?: string) => {
  const s = z
    .string()
    .check((ctx) => {
      const e = dnsLabelError(ctx.value);
      if (e) ctx.issues.push({ code: 'custom', input: ctx.value, message: e });
    })
    .meta({ minLength: 1, maxLength: DNS1123_LABEL_MAX, pattern: DNS1123_LABEL.source });
  return description ? s.describe(description) : s;
};

/** Checks a label or annotation key: an optional DNS subdomain prefix (<= 253) and '/', then a name (<= 63). */
export function qualifiedNameError(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return "must be a qualified name: an optional DNS subdomain prefix and '/', then a name (e.g. 'example.com/my-name')";
  const [prefix, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [undefined, parts[0]!];
  if (prefix !== undefined) {
    if (prefix.length === 0) return 'prefix part must not be empty';
    if (prefix.length > DNS1123_SUBDOMAIN_MAX) return `prefix part must be no more than ${DNS1123_SUBDOMAIN_MAX} characters`;
    if (!DNS1123_SUBDOMAIN.test(prefix)) return "prefix part must be a lowercase RFC 1123 subdomain (e.g. 'example.com')";
  }
  if (name.length === 0) return 'name part must not be empty';
  if (name.length > DNS1123_LABEL_MAX) return `name part must be no more than ${DNS1123_LABEL_MAX} characters`;
  if (!QUALIFIED_NAME_PART.test(name))
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

export function labelValueError(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > DNS1123_LABEL_MAX) return `must be no more than ${DNS1123_LABEL_MAX} characters`;
  if (!QUALIFIED_NAME_PART.test(value))
    return "must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

/** Label maps, as in metadata.labels and selectors: every key a qualified name, every value a label value. */
export const labelMap = lazySchema(() =>
  z.record(z.string(), z.string()).check((ctx) => {
    for (const [k, v] of Object.entries(ctx.value)) {
      const ke = qualifiedNameError(k);
      if (ke) ctx.issues.push({ code: 'custom', input: k, path: [k], message: `invalid label key "${k.slice(0, 80)}": ${ke}`, params: { value: k } });
      const ve = labelValueError(v);
      if (ve) ctx.issues.push({ code: 'custom', input: v, path: [k], message: ve, params: { value: v } });
    }
  }),
);

// ---------------------------------------------------------------------------------------------------------
// Kubernetes versions.

/**
 * A Kubernetes version as Cluster API accepts it: vMAJOR.MINOR.PATCH, with optional semver pre-release and
 * build suffixes (v1.31.0-rc.1, v1.31.2+eks.1). Learnt from cluster-api util/version (KubeSemver), except
 * that the leading 'v' is required rather than added: the API does not rewrite what the user wrote.
 */
export const SEMVER = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;
export const VERSION_MAX_LENGTH = 256;
export const kubernetesVersion = lazySchema(() =>
  z
    .string()
    .max(VERSION_MAX_LENGTH)
    .regex(SEMVER, 'must be a Kubernetes version of the form vMAJOR.MINOR.PATCH, for example v1.31.2')
    .describe('Kubernetes version, vMAJOR.MINOR.PATCH (for example v1.31.2).'),
);

export interface ParsedVersion {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers (after '-'), absent for a release. */
  pre?: string;
  build?: string;
}

export function parseVersion(v: string): ParsedVersion | undefined {
  const m = SEMVER.exec(v);
  if (!m) return undefined;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    ...(m[4] !== undefined ? { pre: m[4] } : {}),
    ...(m[5] !== undefined ? { build: m[5] } : {}),
  };
}

/** Semver precedence of two pre-release strings: numeric identifiers numerically and below alphanumeric ones. */
function comparePreRelease(a: string, b: string): number {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) return BigInt(p) < BigInt(q) ? -1 : 1;
    if (pn) return -1;
    if (qn) return 1;
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

/**
 * Compares two versions by semver precedence: negative when a < b, 0 when equal (build metadata is ignored),
 * positive when a > b. A pre-release sorts before its release. Unparsable versions compare as strings.
 */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;
  if (x.major !== y.major) return Math.sign(x.major - y.major);
  if (x.minor !== y.minor) return Math.sign(x.minor - y.minor);
  if (x.patch !== y.patch) return Math.sign(x.patch - y.patch);
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return Math.sign(comparePreRelease(x.pre, y.pre));
}

// ---------------------------------------------------------------------------------------------------------
// Int-or-percent (Kubernetes IntOrString as used by maxSurge, maxUnavailable, maxUnhealthy, maxInFlight).

export const PERCENT = /^(100|[1-9]?[0-9])%$/;
const INT_OR_PERCENT = 'must be an integer >= 0 or a percentage between 0% and 100% (e.g. 1 or 25%)';
/**
 * An int >= 0 or a percentage from 0% to 100%, as Kubernetes' IntOrString for surge and unavailability.
 * A string of digits without '%' is refused, as intstr.GetScaledValueFromIntOrPercent refuses it.
 */
export const intOrPercent = lazySchema(() =>
  z.union([z.number().int(INT_OR_PERCENT).min(0, 'must be greater than or equal to 0'), z.string().regex(PERCENT, INT_OR_PERCENT)], {
    error: INT_OR_PERCENT,
  }),
);
export type IntOrPercent = z.infer<typeof intOrPercent>;

/** True for 0 and "0%": the values that, for both maxSurge and maxUnavailable, would stall a rollout. */
export function isZeroIntOrPercent(v: IntOrPercent): boolean {
  return v === 0 || v === '0%';
}

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

// ---------------------------------------------------------------------------------------------------------
// Durations.

/**
 * Go duration strings as metav1.Duration carries them in Cluster API (v1beta1): "90s", "10m", "1h30m",
 * "1.5h", and "0" as Go's time.ParseDuration accepts it.
 */
export const DURATION = /^(0|(\d+(\.\d+)?(h|m|s|ms))+)$/;
export const duration = lazySchema(() => z.string().regex(DURATION, 'must be a duration such as 300s, 10m or 1h30m'));

/** Seconds of a Go duration string (every unit time.ParseDuration takes; `duration` admits h, m, s and ms). */
export function durationSeconds(d: string): number {
  let total = 0;
  for (const m of d.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/g)) {
    const n = Number(m[1]);
    const u = m[2];
    total += u === 'h' ? n * 3600 : u === 'm' ? n * 60 : u === 's' ? n : u === 'ms' ? n / 1000 : u === 'ns' ? n / 1e9 : n / 1e6;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------------------
// Conditions, references, selectors.

export const ConditionStatus = lazySchema(() => z.enum(['True', 'False', 'Unknown']));

/** A condition, metav1.Condition's fields plus Cluster API v1beta1's severity. */
export const condition = lazySchema(() =>
  z.strictObject({
    type: z.string().min(1).max(316),
    status: ConditionStatus,
    reason: z.string().max(1024).optional(),
    message: z.string().max(32768).optional(),
    severity: z.enum(['Error', 'Warning', 'Info', '']).optional(),
    lastTransitionTime: z.string(),
    observedGeneration: z.number().int().min(0).optional(),
  }),
);
export type Condition = z.infer<typeof condition>;

export const conditions = lazySchema(() => z.array(condition));

/** A reference to an object of this API in the same namespace. */
export const localObjectReference = lazySchema(() => z.strictObject({ name: dnsLabel('Name of the referenced object, in the same namespace.') }));
export type LocalObjectReference = z.infer<typeof localObjectReference>;

export const LabelSelectorOperator = lazySchema(() => z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']));

export const labelSelectorRequirement = lazySchema(() =>
  z
    .strictObject({
      key: z.string().min(1),
      operator: LabelSelectorOperator,
      values: z.array(z.string()).optional(),
    })
    .check((ctx) => {
      // As apimachinery's ValidateLabelSelectorRequirement: In/NotIn need values, Exists/DoesNotExist take none.
      const { key, operator, values } = ctx.value;
      const ke = qualifiedNameError(key);
      if (ke) ctx.issues.push({ code: 'custom', input: key, path: ['key'], message: ke, params: { value: key } });
      const n = values?.length ?? 0;
      if ((operator === 'In' || operator === 'NotIn') && n === 0)
        ctx.issues.push({
          code: 'custom',
          input: values,
          path: ['values'],
          message: `must be specified when operator is ${operator}`,
          params: { reason: 'FieldValueRequired' },
        });
      if ((operator === 'Exists' || operator === 'DoesNotExist') && n > 0)
        ctx.issues.push({
          code: 'custom',
          input: values,
          path: ['values'],
          message: `may not be specified when operator is ${operator}`,
          params: { reason: 'FieldValueForbidden' },
        });
      values?.forEach((v, i) => {
        const ve = labelValueError(v);
        if (ve) ctx.issues.push({ code: 'custom', input: v, path: ['values', i], message: ve, params: { value: v } });
      });
    }),
);

/** A label selector as metav1.LabelSelector. */
export const labelSelector = lazySchema(() =>
  z.strictObject({
    matchLabels: labelMap.optional(),
    matchExpressions: z.array(labelSelectorRequirement).optional(),
  }),
);
export type LabelSelector = z.infer<typeof labelSelector>;

export function selectorIsEmpty(selector: LabelSelector | undefined): boolean {
  return !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
}

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
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
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
