import { describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../../functions/api/control-plane.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import { createCauses, created, expectCause, expectOnlyCause, full, minimal, withValue } from './fixtures.js';

describe('replicas of MachineDeployment and MachineSet', () => {
  const kinds = ['MachineDeployment', 'MachineSet'] as const;

  it.each(kinds.flatMap((kind) => [0, 1, 7, 1000].map((replicas) => ({ kind, replicas }))))('$kind: $replicas is accepted', ({ kind, replicas }) => {
    expect(created(withValue(minimal[kind](), 'spec.replicas', replicas)).spec).toMatchObject({ replicas });
  });

  it.each(
    kinds.flatMap((kind) => [
      { kind, replicas: -1, message: 'greater than or equal to 0' },
      { kind, replicas: 1.5, message: 'must be an integer' },
      { kind, replicas: '3', message: 'must be of type number' },
      // int32, as Kubernetes and Cluster API declare replicas
      { kind, replicas: 2_147_483_648, message: 'less than or equal to 2147483647' },
      { kind, replicas: 9_007_199_254_740_991, message: 'less than or equal to 2147483647' },
    ]),
  )('$kind: $replicas is refused', ({ kind, replicas, message }) => {
    expectOnlyCause(createCauses(withValue(minimal[kind](), 'spec.replicas', replicas)), 'spec.replicas', 'FieldValueInvalid', message);
  });

  it.each(kinds)("%s: accepts the largest int32, 2147483647 (the installation limit is the API's to apply)", (kind) => {
    expect(created(withValue(minimal[kind](), 'spec.replicas', 2_147_483_647)).spec).toMatchObject({ replicas: 2_147_483_647 });
  });

  it.each(kinds)('%s: defaults to 1', (kind) => {
    expect(created(minimal[kind]()).spec).toMatchObject({ replicas: 1 });
  });
});

describe('ControlPlane replicas', () => {
  it.each([1, 3, 5, 7])('%i is accepted', (replicas) => {
    expect((created(withValue(minimal.ControlPlane(), 'spec.replicas', replicas)) as ControlPlane).spec.replicas).toBe(replicas);
  });

  it.each([
    { replicas: 0, message: 'at least 1' },
    { replicas: -1, message: 'at least 1' },
    { replicas: 2, message: 'odd number' },
    { replicas: 4, message: 'odd number' },
    { replicas: 1.5, message: 'integer' },
    { replicas: 2_147_483_649, message: 'less than or equal to 2147483647' },
  ])('$replicas is refused', ({ replicas, message }) => {
    expectOnlyCause(createCauses(withValue(minimal.ControlPlane(), 'spec.replicas', replicas)), 'spec.replicas', 'FieldValueInvalid', message);
  });

  it('defaults to 1 with maxSurge 1', () => {
    expect((created(minimal.ControlPlane()) as ControlPlane).spec).toMatchObject({ replicas: 1, rollout: { maxSurge: 1 } });
  });

  it('allows maxSurge 0 from 3 replicas', () => {
    expect((created(full.controlPlane()) as ControlPlane).spec.rollout.maxSurge).toBe(0);
  });

  it('refuses maxSurge 0 with 1 replica: removing first would lose quorum', () => {
    const body = withValue(minimal.ControlPlane(), 'spec.rollout', { maxSurge: 0 });
    expectOnlyCause(createCauses(body), 'spec.rollout.maxSurge', 'FieldValueInvalid', '3 or more replicas');
  });

  it.each([2, -1, '1'])('refuses maxSurge %s', (maxSurge) => {
    expectOnlyCause(
      createCauses(withValue(minimal.ControlPlane(), 'spec.rollout', { maxSurge })),
      'spec.rollout.maxSurge',
      'FieldValueNotSupported',
      'supported values: 0, 1',
    );
  });
});

describe('MachineDeployment strategy', () => {
  const rolling = (rollingUpdate: Record<string, unknown>) => withValue(minimal.MachineDeployment(), 'spec.strategy', { type: 'RollingUpdate', rollingUpdate });
  const fields = ['maxSurge', 'maxUnavailable'] as const;

  it('defaults to RollingUpdate with maxSurge 1 and maxUnavailable 0', () => {
    expect((created(minimal.MachineDeployment()) as MachineDeployment).spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
  });

  it('fills the rolling update of a RollingUpdate strategy that has none', () => {
    const md = created(withValue(minimal.MachineDeployment(), 'spec.strategy', { type: 'RollingUpdate' })) as MachineDeployment;
    expect(md.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  it('fills the missing half of a rolling update', () => {
    const md = created(rolling({ maxUnavailable: '25%' })) as MachineDeployment;
    expect(md.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: '25%' });
  });

  it.each(fields.flatMap((field) => [0, 1, 10, '0%', '25%', '100%'].map((value) => ({ field, value }))))('$field: $value is accepted', ({ field, value }) => {
    const other = field === 'maxSurge' ? 'maxUnavailable' : 'maxSurge';
    const md = created(rolling({ [field]: value, [other]: 1 })) as MachineDeployment;
    expect(md.spec.strategy.rollingUpdate?.[field]).toBe(value);
  });

  it.each(fields.flatMap((field) => [-1, 1.5, '101%', '-5%', '5', '05%', 'abc', '', true].map((value) => ({ field, value }))))(
    '$field: $value is refused',
    ({ field, value }) => {
      const causes = createCauses(rolling({ [field]: value }));
      expectOnlyCause(
        causes,
        `spec.strategy.rollingUpdate.${field}`,
        'FieldValueInvalid',
        value === -1 ? 'greater than or equal to 0' : 'integer >= 0 or a percentage',
      );
    },
  );

  it.each([
    [0, 0],
    [0, '0%'],
    ['0%', 0],
    ['0%', '0%'],
  ])('refuses maxSurge %s with maxUnavailable %s: the rollout could not progress', (maxSurge, maxUnavailable) => {
    expectOnlyCause(
      createCauses(rolling({ maxSurge, maxUnavailable })),
      'spec.strategy.rollingUpdate.maxUnavailable',
      'FieldValueInvalid',
      'may not be 0 when maxSurge is 0',
    );
  });

  it('refuses maxSurge 0 alone, as maxUnavailable defaults to 0', () => {
    expectOnlyCause(
      createCauses(rolling({ maxSurge: 0 })),
      'spec.strategy.rollingUpdate.maxUnavailable',
      'FieldValueInvalid',
      'Invalid value: 0: may not be 0',
    );
  });

  it.each(['Recreate', 'OnDelete'])('%s takes no rolling update, and gets none', (type) => {
    const md = created(withValue(minimal.MachineDeployment(), 'spec.strategy', { type })) as MachineDeployment;
    expect(md.spec.strategy).toEqual({ type });
    const causes = createCauses(withValue(minimal.MachineDeployment(), 'spec.strategy', { type, rollingUpdate: { maxSurge: 1 } }));
    expectOnlyCause(causes, 'spec.strategy.rollingUpdate', 'FieldValueForbidden', `when type is ${type}`);
  });

  it('refuses an unknown strategy type, listing the supported ones', () => {
    const causes = createCauses(withValue(minimal.MachineDeployment(), 'spec.strategy', { type: 'BlueGreen' }));
    expectOnlyCause(causes, 'spec.strategy.type', 'FieldValueNotSupported', 'supported values: "RollingUpdate", "Recreate", "OnDelete"');
  });

  it.each(['MachineDeployment', 'MachineSet'] as const)('%s: refuses an unknown deletePolicy', (kind) => {
    const causes = createCauses(withValue(minimal[kind](), 'spec.deletePolicy', 'Youngest'));
    expectOnlyCause(causes, 'spec.deletePolicy', 'FieldValueNotSupported', 'Unsupported value: "Youngest"');
  });

  it.each([
    { field: 'spec.minReadySeconds', value: -1 },
    { field: 'spec.revisionHistoryLimit', value: -1 },
    { field: 'spec.progressDeadlineSeconds', value: 0 },
    { field: 'spec.paused', value: 'yes' },
  ])('refuses $field = $value', ({ field, value }) => {
    expectCause(createCauses(withValue(minimal.MachineDeployment(), field, value)), field, 'FieldValueInvalid');
  });
});
