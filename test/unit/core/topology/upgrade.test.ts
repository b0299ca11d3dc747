/** The upgrade sequence's rules, one by one: when the control plane is done, the next step, the concurrency, new MachineDeployments. */
import { describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../../../functions/api/control-plane.js';
import type { MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import { controlPlaneStable, decideVersions, nextStep, upgradeConcurrency } from '../../../../functions/core/topology/upgrade.js';
import { World } from './world.js';

const cp = (status: Partial<NonNullable<ControlPlane['status']>> | undefined, generation = 2): ControlPlane =>
  ({
    metadata: { name: 'prod-control-plane', namespace: 'default', generation },
    spec: { replicas: 3, version: 'v1.32.0' },
    ...(status ? { status } : {}),
  }) as unknown as ControlPlane;
const done = { observedGeneration: 2, version: 'v1.32.0', replicas: 3, updatedReplicas: 3, readyReplicas: 3 };

describe('controlPlaneStable', () => {
  it.each([
    { name: 'every replica updated and ready at its version', status: done, stable: true },
    { name: 'no status yet', status: undefined, stable: false },
    { name: 'a status of an older generation', status: { ...done, observedGeneration: 1 }, stable: false },
    { name: 'a machine still at the older version', status: { ...done, version: 'v1.31.2' }, stable: false },
    { name: 'a surplus machine', status: { ...done, replicas: 4 }, stable: false },
    { name: 'a machine not updated', status: { ...done, updatedReplicas: 2 }, stable: false },
    { name: 'a machine not ready', status: { ...done, readyReplicas: 2 }, stable: false },
  ])('$name: $stable', ({ status, stable }) => {
    expect(controlPlaneStable(cp(status))).toBe(stable);
  });
});

describe('nextStep', () => {
  it.each([
    { from: 'v1.31.2', to: 'v1.32.5', next: 'v1.32.5' },
    { from: 'v1.31.2', to: 'v1.31.9', next: 'v1.31.9' },
    { from: 'v1.31.2', to: 'v1.33.1', next: 'v1.32.0' },
    { from: 'v1.30.2', to: 'v1.33.1', next: 'v1.31.0' },
    { from: 'v1.31.2', to: 'v2.0.0', next: 'v2.0.0' },
    { from: 'v1.1.0', to: 'v2.5.0', next: 'v2.5.0' },
    { from: 'bad', to: 'v1.33.1', next: 'v1.33.1' },
  ])('$from -> $to: $next', ({ from, to, next }) => {
    expect(nextStep(from, to)).toBe(next);
  });
});

describe('upgradeConcurrency', () => {
  it.each([
    { value: undefined, n: 1 },
    { value: '3', n: 3 },
    { value: '0', n: 1 },
    { value: '-2', n: 1 },
    { value: '2x', n: 1 },
    { value: 'x2', n: 1 },
    { value: '12', n: 12 },
  ])('$value: $n', ({ value, n }) => {
    const w = new World(value === undefined ? {} : { annotations: { 'clusterless.dev/upgrade-concurrency': value } });
    expect(upgradeConcurrency(w.cluster)).toBe(n);
  });
});

describe('decideVersions', () => {
  const md = (version: string) =>
    ({ spec: { replicas: 1, template: { spec: { version } } }, metadata: { name: 'x', generation: 1 } }) as unknown as MachineDeployment;

  it('creates a new MachineDeployment at the version the control plane runs while it upgrades, at the target once it is done', () => {
    const w = new World();
    const upgrading = { ...cp({ ...done, version: 'v1.31.2', updatedReplicas: 1 }) };
    expect(decideVersions(w.cluster, 'v1.32.0', upgrading, [{ name: 'new' }]).machineDeployments.get('new')).toBe('v1.31.2');
    const noStatus = cp(undefined);
    expect(decideVersions(w.cluster, 'v1.32.0', noStatus, [{ name: 'new' }]).machineDeployments.get('new')).toBe('v1.32.0');
    expect(decideVersions(w.cluster, 'v1.32.0', cp(done), [{ name: 'new' }]).machineDeployments.get('new')).toBe('v1.32.0');
    expect(decideVersions(w.cluster, 'v1.32.0', undefined, [{ name: 'new' }]).machineDeployments.get('new')).toBe('v1.32.0');
  });

  it('counts a MachineDeployment already at the target and still rolling against the concurrency', () => {
    const w = new World();
    const rolling = md('v1.32.0');
    const v = decideVersions(w.cluster, 'v1.32.0', cp(done), [
      { name: 'a', actual: rolling },
      { name: 'b', actual: md('v1.31.2') },
    ]);
    expect([v.machineDeployments.get('a'), v.machineDeployments.get('b')]).toEqual(['v1.32.0', 'v1.31.2']);
  });

  it('does not count a MachineDeployment still at the older version as upgrading, even while it scales', () => {
    const w = new World();
    const scaling = { ...md('v1.31.2'), status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 1 } } as MachineDeployment;
    const v = decideVersions(w.cluster, 'v1.32.0', cp(done), [
      { name: 'a', actual: scaling },
      { name: 'b', actual: md('v1.31.2') },
    ]);
    expect([v.machineDeployments.get('a'), v.machineDeployments.get('b')]).toEqual(['v1.32.0', 'v1.31.2']);
  });

  it('moves the control plane only when it is not rolling', () => {
    const w = new World();
    const old = { ...cp({ ...done, version: 'v1.31.2', updatedReplicas: 2 }), spec: { replicas: 3, version: 'v1.31.2' } } as ControlPlane;
    expect(decideVersions(w.cluster, 'v1.32.0', old, []).controlPlane).toBe('v1.31.2');
    const settled = { ...old, status: { ...done, version: 'v1.31.2' } } as ControlPlane;
    expect(decideVersions(w.cluster, 'v1.32.0', settled, []).controlPlane).toBe('v1.32.0');
  });
});
