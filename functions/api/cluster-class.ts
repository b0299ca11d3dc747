/**
 * ClusterClass: the blueprint of a cluster's ControlPlane, MachineDeployments and MachineHealthChecks, with
 * variables and JSON patches, that Clusters with spec.topology are stamped from (functions/core/topology).
 * Cluster API's ClusterClass (api/core/v1beta1/clusterclass_types.go) trimmed to what clusterless has: its
 * templates are references to other objects, here the class holds the fields themselves. Validation learnt from
 * cluster-api internal/webhooks/clusterclass.go (unique classes and variables, patches' selectors and paths, worker
 * classes still used by Clusters) and internal/topology/variables (the variables' schemas).
 */
import * as z from 'zod';
import { jsonValue, type Cluster, type ClusterTopology } from './cluster.js';
import { variableSchemaProblems, valueErrors, withDefaults, type VariableSchema } from './cluster-class-variables.js';
import { API_VERSION, dnsLabel, localObjectReference } from './common.js';
import { controlPlaneSpec } from './control-plane.js';
import { cause, defineKind, type FieldCause } from './kind.js';
import { machineDeploymentSpec } from './machine-deployment.js';
import { machineHealthCheckSpec } from './machine-health-check.js';
import { objectMeta, templateMeta } from './meta.js';
import { nodeTaints } from './taint.js';
import { nodeDrainTimeoutSeconds } from './template.js';
import { lazySchema } from './lazy-schema.js';

/**
 * What marks the objects a managed topology generated (Cluster API's topology.cluster.x-k8s.io/owned and
 * topology.cluster.x-k8s.io/deployment-name, renamed into clusterless.dev/): the planner touches nothing without
 * the owned label.
 */
export const TopologyLabels = {
  owned: 'clusterless.dev/topology-owned',
  machineDeploymentName: 'clusterless.dev/topology-machine-deployment-name',
} as const;

/**
 * On a Cluster: how many MachineDeployments of its topology are upgraded at once (Cluster API's
 * topology.cluster.x-k8s.io/upgrade-concurrency); 1 when unset or not a positive integer.
 */
export const TopologyAnnotations = { upgradeConcurrency: 'clusterless.dev/upgrade-concurrency' } as const;

/** The names of the objects a topology generates, as `clusterless generate cluster` names them. */
export const topologyObjectNames = {
  controlPlane: (cluster: string) => `${cluster}-control-plane`,
  machineDeployment: (cluster: string, name: string) => `${cluster}-${name}`,
  controlPlaneHealthCheck: (cluster: string) => `${cluster}-control-plane`,
  machineDeploymentHealthCheck: (cluster: string, name: string) => `${cluster}-${name}`,
};

/** A MachineHealthCheck's spec without clusterName and selector: the topology planner sets those. */
export const machineHealthCheckClass = lazySchema(() =>
  z.strictObject({
    unhealthyConditions: machineHealthCheckSpec.shape.unhealthyConditions,
    nodeStartupTimeout: machineHealthCheckSpec.shape.nodeStartupTimeout,
    maxUnhealthy: machineHealthCheckSpec.shape.maxUnhealthy,
    unhealthyRange: machineHealthCheckSpec.shape.unhealthyRange,
    maxInFlight: machineHealthCheckSpec.shape.maxInFlight,
  }),
);
export type MachineHealthCheckClass = z.infer<typeof machineHealthCheckClass>;

/** The ControlPlane's fields a class gives (its own names, as controlPlaneSpec has them). */
export const controlPlaneClass = lazySchema(() =>
  z.strictObject({
    /** Onto the ControlPlane and its machines. */
    metadata: templateMeta.prefault({}),
    machineClassRef: localObjectReference,
    /** Used when the topology leaves controlPlane.replicas unset. */
    replicas: controlPlaneSpec.shape.replicas,
    rollout: controlPlaneSpec.shape.rollout,
    remediation: controlPlaneSpec.shape.remediation,
    nodeDrainTimeoutSeconds,
    machineHealthCheck: machineHealthCheckClass.optional(),
  }),
);
export type ControlPlaneClass = z.infer<typeof controlPlaneClass>;

/** One worker class: what a MachineDeployment of the class is made of. */
export const machineDeploymentClass = lazySchema(() =>
  z.strictObject({
    /** What topology.workers.machineDeployments[].class names. */
    class: dnsLabel('Name of the worker class, unique in the ClusterClass.'),
    template: z.strictObject({
      metadata: templateMeta.prefault({}),
      machineClassRef: localObjectReference,
      taints: nodeTaints.optional(),
      nodeDrainTimeoutSeconds,
    }),
    strategy: machineDeploymentSpec.shape.strategy,
    minReadySeconds: machineDeploymentSpec.shape.minReadySeconds,
    machineHealthCheck: machineHealthCheckClass.optional(),
  }),
);
export type MachineDeploymentClass = z.infer<typeof machineDeploymentClass>;

/** Variable names: what valueFrom.variable names; `builtin` is Cluster API's reserved prefix. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const clusterClassVariable = lazySchema(() =>
  z.strictObject({
    name: z
      .string()
      .max(256)
      .regex(VARIABLE_NAME, 'must start with a letter or _ and hold only letters, digits and _')
      .refine((n) => n !== 'builtin', { message: '"builtin" is reserved for the built-in variables' }),
    /** A Cluster must give a value (or the schema a default). */
    required: z.boolean().default(false),
    schema: z.strictObject({
      openAPIV3Schema: jsonValue('The schema of the variable: a subset of OpenAPI v3 (see functions/api/cluster-class-variables.ts).').check((ctx) => {
        for (const p of variableSchemaProblems(ctx.value))
          ctx.issues.push({ code: 'custom', input: ctx.value, path: p.path, message: p.message, params: { reason: p.reason, value: p.value } });
      }),
    }),
  }),
);
export type ClusterClassVariable = z.infer<typeof clusterClassVariable>;

/**
 * The built-in variables a patch may read (Cluster API's builtin.* of internal/topology/variables, the subset
 * clusterless has): the cluster's name, namespace and topology version, the control plane's replicas, and of the
 * MachineDeployment a patch is applied to, its topology name, class and replicas.
 */
export const BUILTIN_VARIABLES = {
  ControlPlane: ['builtin.cluster.name', 'builtin.cluster.namespace', 'builtin.cluster.topology.version', 'builtin.controlPlane.replicas'],
  MachineDeployment: [
    'builtin.cluster.name',
    'builtin.cluster.namespace',
    'builtin.cluster.topology.version',
    'builtin.controlPlane.replicas',
    'builtin.machineDeployment.name',
    'builtin.machineDeployment.class',
    'builtin.machineDeployment.replicas',
  ],
} as const;

/**
 * The JSON pointers a patch may write, per kind, relative to the generated object: what a class gives, never what
 * the topology owns (version, replicas, clusterName, selector, failureDomain). `*` is any one key, `**` anything
 * below. Learnt from cluster-api internal/webhooks/patch_validation.go, which limits patches to the template's spec.
 */
export const PATCHABLE_PATHS: Record<'ControlPlane' | 'MachineDeployment', readonly string[]> = {
  ControlPlane: [
    '/metadata/labels/*',
    '/metadata/annotations/*',
    '/spec/machineClassRef/name',
    '/spec/rollout/maxSurge',
    '/spec/remediation/**',
    '/spec/nodeDrainTimeoutSeconds',
  ],
  MachineDeployment: [
    '/metadata/labels/*',
    '/metadata/annotations/*',
    '/spec/template/metadata/labels/*',
    '/spec/template/metadata/annotations/*',
    '/spec/template/spec/machineClassRef/name',
    '/spec/template/spec/nodeDrainTimeoutSeconds',
    '/spec/template/spec/taints',
    '/spec/template/spec/taints/**',
    '/spec/strategy/**',
    '/spec/minReadySeconds',
  ],
};

/** The segments of a JSON pointer (RFC 6901: ~1 is /, ~0 is ~); undefined when it is not one. */
export function pointerSegments(pointer: string): string[] | undefined {
  if (!pointer.startsWith('/')) return undefined;
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Whether a patch of `kind` may write `pointer`. */
export function isPatchablePath(kind: 'ControlPlane' | 'MachineDeployment', pointer: string): boolean {
  const segs = pointerSegments(pointer);
  if (!segs || segs.some((s) => s === '')) return false;
  return PATCHABLE_PATHS[kind].some((pattern) => {
    const p = pattern.slice(1).split('/');
    for (let i = 0; i < p.length; i++) {
      if (p[i] === '**') return segs.length > i;
      if (i >= segs.length || (p[i] !== '*' && p[i] !== segs[i])) return false;
    }
    return segs.length === p.length;
  });
}

export const jsonPatchOperation = lazySchema(() =>
  z
    .strictObject({
      op: z.enum(['add', 'replace', 'remove']),
      path: z.string().min(1),
      value: jsonValue('The value to write (add, replace); or valueFrom.').optional(),
      valueFrom: z.strictObject({ variable: z.string().min(1) }).optional(),
    })
    .check((ctx) => {
      const o = ctx.value;
      const reason = (r: FieldCause['reason']) => ({ reason: r });
      if (o.op === 'remove' && (o.value !== undefined || o.valueFrom))
        ctx.issues.push({
          code: 'custom',
          input: o,
          path: [o.value !== undefined ? 'value' : 'valueFrom'],
          message: 'remove takes no value',
          params: reason('FieldValueForbidden'),
        });
      if (o.op !== 'remove' && (o.value === undefined) === (o.valueFrom === undefined))
        ctx.issues.push({
          code: 'custom',
          input: o,
          path: ['value'],
          message: `${o.op} needs exactly one of value and valueFrom`,
          params: reason('FieldValueRequired'),
        });
    }),
);
export type JsonPatchOperation = z.infer<typeof jsonPatchOperation>;

export const patchSelector = lazySchema(() =>
  z.strictObject({
    kind: z.enum(['ControlPlane', 'MachineDeployment']),
    matchResources: z.strictObject({
      controlPlane: z.boolean().optional(),
      machineDeploymentClass: z.strictObject({ names: z.array(z.string().min(1)).min(1) }).optional(),
    }),
  }),
);

export const clusterClassPatch = lazySchema(() =>
  z.strictObject({
    name: z.string().min(1).max(256),
    description: z.string().optional(),
    definitions: z.array(z.strictObject({ selector: patchSelector, jsonPatches: z.array(jsonPatchOperation).min(1) })).min(1),
  }),
);
export type ClusterClassPatch = z.infer<typeof clusterClassPatch>;

const unique = <T>(items: readonly T[], key: (t: T) => string, path: (i: number) => PropertyKey[], what: string, ctx: z.core.ParsePayload<unknown>) => {
  const seen = new Set<string>();
  items.forEach((t, i) => {
    const k = key(t);
    if (seen.has(k)) ctx.issues.push({ code: 'custom', input: k, path: path(i), message: `${what} must be unique`, params: { reason: 'FieldValueDuplicate' } });
    seen.add(k);
  });
};

export const clusterClassSpec = lazySchema(() =>
  z
    .strictObject({
      controlPlane: controlPlaneClass,
      workers: z.strictObject({ machineDeployments: z.array(machineDeploymentClass).default(() => []) }).prefault({}),
      variables: z.array(clusterClassVariable).default(() => []),
      patches: z.array(clusterClassPatch).default(() => []),
    })
    .check((ctx) => {
      const s = ctx.value;
      unique(
        s.workers.machineDeployments,
        (m) => m.class,
        (i) => ['workers', 'machineDeployments', i, 'class'],
        'worker classes',
        ctx,
      );
      unique(
        s.variables,
        (v) => v.name,
        (i) => ['variables', i, 'name'],
        'variable names',
        ctx,
      );
      unique(
        s.patches,
        (p) => p.name,
        (i) => ['patches', i, 'name'],
        'patch names',
        ctx,
      );
      const classes = new Set(s.workers.machineDeployments.map((m) => m.class));
      const variables = new Set(s.variables.map((v) => v.name));
      s.patches.forEach((patch, pi) => {
        patch.definitions.forEach((d, di) => {
          const at = (...rest: PropertyKey[]) => ['patches', pi, 'definitions', di, ...rest];
          const { kind, matchResources: m } = d.selector;
          if (kind === 'ControlPlane' && m.controlPlane !== true)
            ctx.issues.push({
              code: 'custom',
              input: m,
              path: at('selector', 'matchResources', 'controlPlane'),
              message: 'must be true to select the ControlPlane',
            });
          if (kind === 'MachineDeployment' && !m.machineDeploymentClass)
            ctx.issues.push({
              code: 'custom',
              input: m,
              path: at('selector', 'matchResources', 'machineDeploymentClass'),
              message: 'names the worker classes a MachineDeployment patch applies to',
              params: { reason: 'FieldValueRequired' },
            });
          if (kind === 'ControlPlane' && m.machineDeploymentClass)
            ctx.issues.push({
              code: 'custom',
              input: m,
              path: at('selector', 'matchResources', 'machineDeploymentClass'),
              message: 'selects MachineDeployments, not the ControlPlane',
              params: { reason: 'FieldValueForbidden' },
            });
          m.machineDeploymentClass?.names.forEach((n, ni) => {
            if (!classes.has(n))
              ctx.issues.push({
                code: 'custom',
                input: n,
                path: at('selector', 'matchResources', 'machineDeploymentClass', 'names', ni),
                message: 'must name a class of workers.machineDeployments',
              });
          });
          const builtins: readonly string[] = BUILTIN_VARIABLES[kind];
          d.jsonPatches.forEach((op, oi) => {
            if (!isPatchablePath(kind, op.path))
              ctx.issues.push({
                code: 'custom',
                input: op.path,
                path: at('jsonPatches', oi, 'path'),
                message: `a ${kind} patch may write only ${PATCHABLE_PATHS[kind].join(', ')}`,
              });
            const v = op.valueFrom?.variable;
            // A declared variable, a field of an object variable (settings.drain), or a built-in of the kind.
            if (v !== undefined && !variables.has(v) && !variables.has(v.split('.')[0]!) && !builtins.includes(v))
              ctx.issues.push({
                code: 'custom',
                input: v,
                path: at('jsonPatches', oi, 'valueFrom', 'variable'),
                message: `must name a variable of spec.variables or a built-in variable (${builtins.join(', ')})`,
              });
          });
        });
      });
    }),
);
export type ClusterClassSpec = z.infer<typeof clusterClassSpec>;

export const clusterClassSchema = lazySchema(() =>
  z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('ClusterClass'),
    metadata: objectMeta,
    spec: clusterClassSpec,
    // Nothing reports on a class itself: what a Cluster makes of it is the Cluster's TopologyReconciled condition.
    status: z.strictObject({}).optional(),
  }),
);
export type ClusterClass = z.infer<typeof clusterClassSchema>;

export const ClusterClassKind = defineKind<ClusterClass>({
  kind: 'ClusterClass',
  plural: 'clusterclasses',
  singular: 'clusterclass',
  shortNames: ['cc'],
  categories: ['clusterless'],
  schema: clusterClassSchema,
  // Shared by the Clusters of its namespace, like a MachineClass: stored in the namespace's partition.
  clusterNameOf: () => undefined,
  printerColumns: [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
});

// ---------------------------------------------------------------------------------------------------------
// Rules between a Cluster's topology and its class: at admission (the object service reads the class) and again
// by the topology planner, which reports them by the TopologyReconciled condition.

/**
 * The variable values of a topology checked against the class: each value against its schema, a required
 * variable given (or defaulted), no variable the class does not declare, each MachineDeployment's class defined
 * by the class and its overrides checked alike. Causes name `spec.topology.variables[i].value` and so on.
 */
export function topologyClassCauses(topology: ClusterTopology, cc: ClusterClass): FieldCause[] {
  const out: FieldCause[] = [];
  const declared = new Map(cc.spec.variables.map((v) => [v.name, v]));
  const checkValues = (values: readonly { name: string; value?: unknown }[], path: string, requireAll: boolean) => {
    values.forEach((v, i) => {
      const d = declared.get(v.name);
      if (!d) {
        out.push(cause.invalid(`${path}[${i}].name`, v.name, `the ClusterClass ${cc.metadata.name} declares no such variable`));
        return;
      }
      for (const m of valueErrors(d.schema.openAPIV3Schema as VariableSchema, v.value)) out.push(cause.invalid(`${path}[${i}].value`, v.value, m));
    });
    if (!requireAll) return;
    const given = new Set(values.map((v) => v.name));
    for (const d of cc.spec.variables)
      if (d.required && !given.has(d.name) && (d.schema.openAPIV3Schema as VariableSchema).default === undefined)
        out.push(cause.required(path, `the ClusterClass ${cc.metadata.name} requires the variable ${d.name}`));
  };
  checkValues(topology.variables ?? [], 'spec.topology.variables', true);
  const classes = new Set(cc.spec.workers.machineDeployments.map((m) => m.class));
  (topology.workers?.machineDeployments ?? []).forEach((m, i) => {
    const at = `spec.topology.workers.machineDeployments[${i}]`;
    if (!classes.has(m.class)) out.push(cause.invalid(`${at}.class`, m.class, `the ClusterClass ${cc.metadata.name} has no such worker class`));
    checkValues(m.variables?.overrides ?? [], `${at}.variables.overrides`, false);
  });
  return out;
}

/** The value of every declared variable for a topology (or one of its MachineDeployments' overrides), defaults filled. */
export function resolvedVariables(
  cc: ClusterClass,
  values: readonly { name: string; value?: unknown }[],
  overrides: readonly { name: string; value?: unknown }[] = [],
): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const given = new Map([...values, ...overrides].map((v) => [v.name, v.value]));
  for (const d of cc.spec.variables) {
    const v = withDefaults(d.schema.openAPIV3Schema as VariableSchema, given.get(d.name));
    if (v !== undefined) out.set(d.name, v);
  }
  return out;
}

/**
 * A class update that removes a worker class some Cluster of the namespace still uses is refused (Cluster API's
 * ClusterClass webhook does the same: validateRemovedMachineDeploymentClassesAreNotUsed).
 */
export function removedWorkerClassCauses(oldC: ClusterClass, newC: ClusterClass, clusters: readonly Cluster[]): FieldCause[] {
  const kept = new Set(newC.spec.workers.machineDeployments.map((m) => m.class));
  const removed = oldC.spec.workers.machineDeployments.map((m) => m.class).filter((c) => !kept.has(c));
  const out: FieldCause[] = [];
  for (const c of removed) {
    const users = clusters
      .filter((cl) => cl.spec.topology?.class === oldC.metadata.name && cl.spec.topology.workers?.machineDeployments?.some((m) => m.class === c))
      .map((cl) => cl.metadata.name)
      .sort();
    if (users.length)
      out.push(
        cause.forbidden(
          'spec.workers.machineDeployments',
          `worker class ${c} cannot be removed: Cluster${users.length > 1 ? 's' : ''} ${users.join(', ')} still use${users.length > 1 ? '' : 's'} it`,
        ),
      );
  }
  return out;
}
