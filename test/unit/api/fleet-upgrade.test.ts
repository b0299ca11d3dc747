/** FleetUpgrade validation: 422 causes naming the field at fault; the selection, target and waves frozen once started. */
import { describe, expect, it } from 'vitest';
import type { ApiObject } from '../../../functions/api/kind.js';
import { createCauses, created, expectCause, expectOnlyCause, minimal, updateCauses, withValue } from './fixtures.js';
import { validateUpdate } from '../../../functions/api/validate.js';

const fu = () => minimal.FleetUpgrade();
/** The stored object once the fleet-upgrade task froze its plan. */
const started = (): ApiObject => ({
  ...created(fu()),
  metadata: { name: 'to-1-32', namespace: 'default', uid: 'u', generation: 1 },
  status: { phase: 'Progressing', clusters: [] },
});

describe('FleetUpgrade validation', () => {
  it('fills the defaults: canary 1 then the rest, one cluster at a time, no failure tolerated, a one-hour timeout', () => {
    expect(created(fu())['spec']).toEqual({
      clusterClass: 'standard',
      version: 'v1.32.0',
      waves: { canary: 1, batches: ['100%'] },
      maxInFlight: 1,
      bakeSeconds: 0,
      clusterTimeoutSeconds: 3600,
      maxFailedClusters: 0,
      paused: false,
      abort: false,
    });
  });

  it('needs a clusterClass or a non-empty clusterSelector', () => {
    expectOnlyCause(createCauses(withValue(fu(), 'spec.clusterClass', undefined)), 'spec.clusterSelector', 'FieldValueRequired');
    expectOnlyCause(
      createCauses(withValue(withValue(fu(), 'spec.clusterClass', undefined), 'spec.clusterSelector', {})),
      'spec.clusterSelector',
      'FieldValueRequired',
    );
    expect(created(withValue(withValue(fu(), 'spec.clusterClass', undefined), 'spec.clusterSelector', { matchLabels: { env: 'prod' } }))).toBeDefined();
  });

  it.each([
    ['spec.version', '1.32'],
    ['spec.waves.batches[0]', '110%'],
    ['spec.waves.batches[0]', 0],
    ['spec.maxInFlight', 41],
    ['spec.maxInFlight', 0],
    ['spec.clusterTimeoutSeconds', 10],
    ['spec.maxUnhealthyMachinesPercent', 101],
  ])('refuses %s = %j', (field, value) => {
    const causes = createCauses(withValue(fu(), field, value));
    expect(causes.map((c) => c.field)).toContain(field);
  });

  it('takes counts and percents as batches', () => {
    expect(created(withValue(fu(), 'spec.waves', { canary: 0, batches: [5, '10%', '100%'] }))).toBeDefined();
  });

  it('refuses to change the selection, the target or the waves once started; before, they may change', () => {
    expect(validateUpdate(created(fu()), withValue(fu(), 'spec.version', 'v1.32.1')).ok).toBe(true);
    for (const [field, value] of [
      ['spec.version', 'v1.32.1'],
      ['spec.class', 'standard-v2'],
      ['spec.clusterClass', 'gpu'],
      ['spec.clusterSelector', { matchLabels: { env: 'prod' } }],
      ['spec.waves', { canary: 2, batches: ['100%'] }],
    ] as const)
      expectCause(updateCauses(started(), withValue(fu(), field, value)), field, 'FieldValueInvalid', 'immutable once the upgrade has started');
  });

  it('lets pause, maxInFlight, bake and the halt rules change while it runs', () => {
    const next = withValue(withValue(withValue(fu(), 'spec.paused', true), 'spec.maxInFlight', 5), 'spec.maxFailedClusters', 2);
    expect(validateUpdate(started(), next).ok).toBe(true);
  });

  it('refuses to take an abort back', () => {
    const aborted = { ...started(), spec: { ...(started().spec as object), abort: true } };
    expectOnlyCause(updateCauses(aborted, fu()), 'spec.abort', 'FieldValueInvalid', 'an aborted upgrade cannot be resumed');
  });
});
