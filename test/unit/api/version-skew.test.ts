/**
 * Version skew across the objects of one cluster (functions/api/version-skew.ts): the control plane moves one minor at
 * a time from what it runs, workers are never a newer minor than the control plane and at most three minors older.
 */
import { describe, expect, it } from 'vitest';
import { Labels } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { needsSkewCheck, versionSkewCauses, workerVersions } from '../../../functions/api/version-skew.js';
import { created, expectCause, minimal, withValue } from './fixtures.js';

const controlPlane = (version: string, running?: string): ApiObject => {
  const cp = created(withValue(minimal.ControlPlane(), 'spec.version', version));
  return running === undefined ? cp : { ...cp, status: { version: running } };
};
const deployment = (version: string, name = 'workers') =>
  created(withValue(withValue(minimal.MachineDeployment(), 'spec.template.spec.version', version), 'metadata.name', name));
const machineSet = (version: string, replicas: number) =>
  created(withValue(withValue(minimal.MachineSet(), 'spec.template.spec.version', version), 'spec.replicas', replicas));
const machine = (version: string, controlPlaneLabel = false) => {
  const m = withValue(minimal.Machine(), 'spec.version', version);
  return created(controlPlaneLabel ? { ...m, metadata: { name: 'prod-cp-x7k2p', labels: { [Labels.controlPlane]: '' } } } : m);
};
const withVersion = (o: ApiObject, field: string, version: string): ApiObject => withValue(o, field, version);

describe('the control plane', () => {
  const steps = [
    { name: 'a patch upgrade', running: 'v1.31.2', to: 'v1.31.5', ok: true },
    { name: 'the next minor from what it runs', running: 'v1.31.2', to: 'v1.32.0', ok: true },
    { name: 'a minor past what it runs, though its spec already moved', running: 'v1.31.2', spec: 'v1.32.0', to: 'v1.33.0', ok: false },
    { name: 'the next minor once its machines run the spec', running: 'v1.32.0', spec: 'v1.32.0', to: 'v1.33.0', ok: true },
    { name: 'a major', running: 'v1.31.2', to: 'v2.0.0', ok: false },
  ];

  it.each(steps)('$name: allowed is $ok', ({ running, spec, to, ok }) => {
    // Prepare
    const old = controlPlane(spec ?? running, running);
    // Act
    const causes = versionSkewCauses(withVersion(old, 'spec.version', to), old, []);
    // Assess
    if (ok) expect(causes).toEqual([]);
    else expectCause(causes, 'spec.version', 'FieldValueForbidden', /control plane upgrade skips a minor version: it runs v1\.31\.2 .*v1\.32\.x/);
  });

  it('without status, counts from the stored spec.version', () => {
    const old = controlPlane('v1.31.2');
    expect(versionSkewCauses(withVersion(old, 'spec.version', 'v1.32.9'), old, [])).toEqual([]);
    expectCause(versionSkewCauses(withVersion(old, 'spec.version', 'v1.33.0'), old, []), 'spec.version', 'FieldValueForbidden', 'skips a minor');
  });

  it('may not go below the minor its machines run', () => {
    // A status newer than the spec: machines made at a newer minor than the spec now names.
    const old = controlPlane('v1.31.2', 'v1.32.1');
    expectCause(versionSkewCauses(withVersion(old, 'spec.version', 'v1.31.3'), old, []), 'spec.version', 'FieldValueForbidden', 'control plane downgrade');
  });

  it('refuses an upgrade that leaves a worker more than three minors behind, naming the worker', () => {
    // Prepare
    const old = controlPlane('v1.31.2', 'v1.31.2');
    const workers = [deployment('v1.28.4', 'old-pool'), deployment('v1.31.2')];
    // Act
    const causes = versionSkewCauses(withVersion(old, 'spec.version', 'v1.32.0'), old, [old, ...workers]);
    // Assess
    expect(causes).toHaveLength(1);
    expectCause(causes, 'spec.version', 'FieldValueForbidden', /MachineDeployment old-pool runs v1\.28\.4, .*more than 3 minor versions older/);
  });

  it('allows the upgrade that keeps the oldest worker exactly three minors behind', () => {
    const old = controlPlane('v1.31.2', 'v1.31.2');
    expect(versionSkewCauses(withVersion(old, 'spec.version', 'v1.32.0'), old, [deployment('v1.29.0'), machine('v1.29.9')])).toEqual([]);
  });

  it('is not created older than the workers the cluster already has', () => {
    expectCause(versionSkewCauses(controlPlane('v1.31.2'), undefined, [deployment('v1.32.0')]), 'spec.version', 'FieldValueForbidden', 'newer minor');
    expect(versionSkewCauses(controlPlane('v1.31.2'), undefined, [deployment('v1.31.9')])).toEqual([]);
  });
});

describe('workers', () => {
  const kinds = [
    { kind: 'MachineDeployment', make: (v: string) => deployment(v), field: 'spec.template.spec.version' },
    { kind: 'MachineSet', make: (v: string) => machineSet(v, 1), field: 'spec.template.spec.version' },
    { kind: 'Machine', make: (v: string) => machine(v), field: 'spec.version' },
  ];

  it.each(kinds)('$kind: a newer minor than what the control plane runs is refused, even when its spec is there', ({ make, field }) => {
    // Prepare: the control plane is being upgraded to v1.32.0 and its machines still run v1.31.2.
    const cp = controlPlane('v1.32.0', 'v1.31.2');
    // Act
    const causes = versionSkewCauses(make('v1.32.0'), undefined, [cp]);
    // Assess
    expectCause(causes, field, 'FieldValueForbidden', /newer minor than the control plane .*runs v1\.31\.2.*workers may not be newer/);
  });

  it.each(kinds)('$kind: a newer patch of the control plane minor is allowed', ({ make }) => {
    expect(versionSkewCauses(make('v1.31.3'), undefined, [controlPlane('v1.31.2', 'v1.31.2')])).toEqual([]);
  });

  it.each(kinds)('$kind: the next minor is allowed once the control plane runs it', ({ make }) => {
    expect(versionSkewCauses(make('v1.32.0'), undefined, [controlPlane('v1.32.0', 'v1.32.0')])).toEqual([]);
  });

  it.each(kinds)('$kind: more than three minors older than the control plane is refused', ({ make, field }) => {
    const cp = controlPlane('v1.32.0', 'v1.32.0');
    expect(versionSkewCauses(make('v1.29.0'), undefined, [cp])).toEqual([]);
    expectCause(
      versionSkewCauses(make('v1.28.9'), undefined, [cp]),
      field,
      'FieldValueForbidden',
      /more than 3 minor versions older than the control plane's v1\.32\.0/,
    );
  });

  it.each(kinds)('$kind: a cluster without a ControlPlane holds workers to nothing', ({ make }) => {
    expect(versionSkewCauses(make('v1.40.0'), undefined, [deployment('v1.20.0', 'other')])).toEqual([]);
  });

  it('an update that leaves the version alone is not checked (a scale never fails on old skew)', () => {
    const md = deployment('v1.20.0');
    expect(needsSkewCheck(withValue(md, 'spec.replicas', 5), md)).toBe(false);
    expect(versionSkewCauses(withValue(md, 'spec.replicas', 5), md, [controlPlane('v1.31.2')])).toEqual([]);
  });

  it('control-plane Machines are the control plane own, not workers', () => {
    expect(needsSkewCheck(machine('v1.35.0', true), undefined)).toBe(false);
    expect(workerVersions([machine('v1.20.0', true)])).toEqual([]);
  });

  it('a MachineSet scaled to zero runs nothing and does not hold the control plane back', () => {
    expect(workerVersions([machineSet('v1.20.0', 0)])).toEqual([]);
    expect(workerVersions([machineSet('v1.20.0', 2)]).map((w) => w.version)).toEqual(['v1.20.0']);
  });
});
