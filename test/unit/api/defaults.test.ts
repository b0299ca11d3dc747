import { describe, expect, it } from 'vitest';
import { Labels } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { KINDS } from '../../../functions/api/kinds.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import type { MachineSet } from '../../../functions/api/machine-set.js';
import { KIND_NAMES, createCauses, created, expectOnlyCause, full, minimal, valueAt, withValue } from './fixtures.js';

describe('defaults', () => {
  it.each([
    { kind: 'Cluster' as const, field: 'metadata.namespace', value: 'default' },
    { kind: 'Cluster' as const, field: 'spec.provider', value: { sim: { failureDomains: [] } } },
    { kind: 'Cluster' as const, field: 'spec.paused', value: false },
    { kind: 'ControlPlane' as const, field: 'spec.remediation', value: { retryPeriodSeconds: 0, minHealthyPeriodSeconds: 3600 } },
    { kind: 'ControlPlane' as const, field: 'spec.nodeDrainTimeoutSeconds', value: 300 },
    { kind: 'MachineDeployment' as const, field: 'spec.strategy', value: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
    { kind: 'MachineDeployment' as const, field: 'spec.deletePolicy', value: 'Random' },
    { kind: 'MachineDeployment' as const, field: 'spec.revisionHistoryLimit', value: 10 },
    { kind: 'MachineDeployment' as const, field: 'spec.minReadySeconds', value: 0 },
    { kind: 'MachineDeployment' as const, field: 'spec.paused', value: false },
    { kind: 'MachineDeployment' as const, field: 'spec.template.spec.nodeDrainTimeoutSeconds', value: 300 },
    { kind: 'MachineSet' as const, field: 'spec.deletePolicy', value: 'Random' },
    { kind: 'Machine' as const, field: 'spec.nodeDrainTimeoutSeconds', value: 300 },
    { kind: 'MachineHealthCheck' as const, field: 'spec.nodeStartupTimeout', value: '10m' },
  ])('$kind $field defaults to $value', ({ kind, field, value }) => {
    expect(valueAt(created(minimal[kind]()), field)).toEqual(value);
  });

  it.each([
    { kind: 'MachineDeployment' as const, field: 'spec.deletePolicy', value: 'Newest' },
    { kind: 'MachineDeployment' as const, field: 'spec.revisionHistoryLimit', value: 0 },
    { kind: 'MachineDeployment' as const, field: 'spec.replicas', value: 0 },
    { kind: 'MachineHealthCheck' as const, field: 'spec.nodeStartupTimeout', value: '0s' },
    { kind: 'Cluster' as const, field: 'spec.paused', value: true },
  ])('$kind $field keeps a given $value', ({ kind, field, value }) => {
    expect(valueAt(created(withValue(minimal[kind](), field, value)), field)).toEqual(value);
  });
});

/** Changes every array and object inside `v`, as careless code that holds a parsed object might. */
function vandalise(v: unknown): void {
  if (Array.isArray(v)) {
    v.forEach(vandalise);
    v.push('vandal');
  } else if (v && typeof v === 'object') {
    for (const x of Object.values(v)) vandalise(x);
    (v as Record<string, unknown>)['vandal'] = true;
  }
}

describe('parsing', () => {
  const samples = [...KIND_NAMES.map((k) => ({ name: k, make: minimal[k] })), ...Object.entries(full).map(([name, make]) => ({ name, make }))];

  it.each(samples)('$name: a parsed object shares nothing with later ones (defaults are fresh)', ({ make }) => {
    // Prepare
    const expected = JSON.stringify(created(make()));
    // Act
    vandalise(created(make()));
    // Assess
    expect(JSON.stringify(created(make()))).toBe(expected);
  });

  it.each(samples)('$name: is idempotent (a parsed object parses to itself)', ({ make }) => {
    const once = created(make());
    expect(created(structuredClone(once))).toEqual(once);
  });

  it('gives each kind a schema with a status of its own', () => {
    for (const k of KINDS) expect(k.schema.safeParse({ ...created(minimal[k.kind as keyof typeof minimal]()), status: { surprise: 1 } }).success).toBe(false);
  });
});

describe('labels defaulted as Cluster API does', () => {
  it.each(['MachineDeployment', 'MachineSet', 'Machine', 'MachineHealthCheck'] as const)('%s carries its cluster name as a label', (kind) => {
    expect(created(minimal[kind]()).metadata.labels?.[Labels.clusterName]).toBe('prod');
  });

  it('MachineDeployment: selects its machines by cluster and deployment name when no selector is given', () => {
    const md = created(minimal.MachineDeployment()) as MachineDeployment;
    const own = { [Labels.clusterName]: 'prod', [Labels.deploymentName]: 'workers' };
    expect(md.spec.selector).toEqual({ matchLabels: own });
    expect(md.spec.template.metadata.labels).toEqual(own);
  });

  it('MachineDeployment: keeps a given selector, adds the cluster name, and names the deployment on the template', () => {
    const md = created(full.deployment()) as MachineDeployment;
    expect(md.spec.selector.matchLabels).toEqual({ app: 'web', [Labels.clusterName]: 'prod' });
    expect(md.spec.selector.matchExpressions).toHaveLength(1);
    expect(md.spec.template.metadata.labels).toEqual({ app: 'web', tier: 'front', [Labels.clusterName]: 'prod', [Labels.deploymentName]: 'web' });
  });

  it('MachineSet: selects by set name when no selector is given', () => {
    const ms = created(minimal.MachineSet()) as MachineSet;
    expect(ms.spec.selector.matchLabels).toEqual({ [Labels.clusterName]: 'prod', [Labels.setName]: 'workers-abc12' });
    expect(ms.spec.template.metadata.labels?.[Labels.setName]).toBe('workers-abc12');
  });

  it.each(['MachineDeployment', 'MachineSet'] as const)('%s: refuses a selector that does not select its template', (kind) => {
    const body = withValue(withValue(minimal[kind](), 'spec.selector', { matchLabels: { app: 'web' } }), 'spec.template.metadata.labels', { app: 'api' });
    expectOnlyCause(
      createCauses(body),
      'spec.template.metadata.labels',
      'FieldValueInvalid',
      'must match spec.selector "app=web,clusterless.dev/cluster-name=prod"',
    );
  });

  it('keeps labels the user set on the object', () => {
    const obj: ApiObject = created(withValue(minimal.Machine(), 'metadata.labels', { team: 'a' }));
    expect(obj.metadata.labels).toEqual({ team: 'a', [Labels.clusterName]: 'prod' });
  });
});
