import { describe, expect, it } from 'vitest';
import { durationSeconds } from '../../../functions/api/common.js';
import type { MachineHealthCheck } from '../../../functions/api/machine-health-check.js';
import { createCauses, created, expectOnlyCause, full, minimal, withValue } from './fixtures.js';

const mhc = (field: string, value: unknown) => withValue(minimal.MachineHealthCheck(), field, value);
const condition = (timeout: string) => [{ type: 'Ready', status: 'False', timeout }];

describe('MachineHealthCheck timeouts', () => {
  it.each(['30s', '0.5m', '1m', '5m30s', '1h', '1.5h'])('an unhealthy condition timeout of %s is accepted', (timeout) => {
    const h = created(mhc('spec.unhealthyConditions', condition(timeout))) as MachineHealthCheck;
    expect(h.spec.unhealthyConditions[0]!.timeout).toBe(timeout);
  });

  it.each(['29s', '0s', '0', '10s', '500ms', '29.9s'])('an unhealthy condition timeout of %s is refused: under 30s', (timeout) => {
    expectOnlyCause(
      createCauses(mhc('spec.unhealthyConditions', condition(timeout))),
      'spec.unhealthyConditions[0].timeout',
      'FieldValueInvalid',
      'at least 30s',
    );
  });

  it.each(['10', 'abc', '5 m', '-30s', '1d', ''])('an unhealthy condition timeout of "%s" is refused: not a duration', (timeout) => {
    expectOnlyCause(
      createCauses(mhc('spec.unhealthyConditions', condition(timeout))),
      'spec.unhealthyConditions[0].timeout',
      'FieldValueInvalid',
      'must be a duration',
    );
  });

  it.each(['0', '0s', '30s', '10m', '1h'])('a nodeStartupTimeout of %s is accepted (0 disables the check)', (timeout) => {
    expect((created(mhc('spec.nodeStartupTimeout', timeout)) as MachineHealthCheck).spec.nodeStartupTimeout).toBe(timeout);
  });

  it.each(['1s', '29s', '0.4m'])('a nodeStartupTimeout of %s is refused', (timeout) => {
    expectOnlyCause(createCauses(mhc('spec.nodeStartupTimeout', timeout)), 'spec.nodeStartupTimeout', 'FieldValueInvalid', 'at least 30s, or 0s');
  });

  it('a condition needs a known status', () => {
    const causes = createCauses(mhc('spec.unhealthyConditions', [{ type: 'Ready', status: 'Maybe', timeout: '1m' }]));
    expectOnlyCause(causes, 'spec.unhealthyConditions[0].status', 'FieldValueNotSupported', '"True", "False", "Unknown"');
  });

  it.each([
    ['90s', 90],
    ['10m', 600],
    ['1h30m', 5400],
    ['1.5h', 5400],
    ['250ms', 0.25],
    ['0', 0],
  ])('durationSeconds(%s) is %d', (d, s) => {
    expect(durationSeconds(d)).toBe(s);
  });
});

describe('MachineHealthCheck limits', () => {
  it.each([0, 3, '0%', '40%', '100%'])('maxUnhealthy %s is accepted', (maxUnhealthy) => {
    expect((created(mhc('spec.maxUnhealthy', maxUnhealthy)) as MachineHealthCheck).spec.maxUnhealthy).toBe(maxUnhealthy);
  });

  it.each(['40', '40 %', '101%', -1, 2.5, 'many'])('maxUnhealthy %s is refused', (maxUnhealthy) => {
    expectOnlyCause(createCauses(mhc('spec.maxUnhealthy', maxUnhealthy)), 'spec.maxUnhealthy', 'FieldValueInvalid');
  });

  it.each(['5', '200%', -2])('maxInFlight %s is refused', (maxInFlight) => {
    expectOnlyCause(createCauses(mhc('spec.maxInFlight', maxInFlight)), 'spec.maxInFlight', 'FieldValueInvalid');
  });

  it.each(['[0-0]', '[1-3]', '[2-10]'])('unhealthyRange %s is accepted', (unhealthyRange) => {
    expect((created(mhc('spec.unhealthyRange', unhealthyRange)) as MachineHealthCheck).spec.unhealthyRange).toBe(unhealthyRange);
  });

  it.each([
    { range: '[3-1]', message: 'lower bound' },
    { range: '1-3', message: 'range such as [1-3]' },
    { range: '[1,3]', message: 'range such as [1-3]' },
  ])('unhealthyRange $range is refused', ({ range, message }) => {
    expectOnlyCause(createCauses(mhc('spec.unhealthyRange', range)), 'spec.unhealthyRange', 'FieldValueInvalid', message);
  });
});

describe('MachineHealthCheck selector', () => {
  it.each([{}, { matchLabels: {} }, { matchLabels: {}, matchExpressions: [] }])(
    'an empty selector %j is refused: it would select every machine',
    (selector) => {
      expectOnlyCause(createCauses(mhc('spec.selector', selector)), 'spec.selector', 'FieldValueRequired', 'must not be empty');
    },
  );

  it('a selector of another cluster is refused', () => {
    const causes = createCauses(mhc('spec.selector', { matchLabels: { 'clusterless.dev/cluster-name': 'staging' } }));
    expectOnlyCause(causes, 'spec.selector.matchLabels[clusterless.dev/cluster-name]', 'FieldValueInvalid', 'spec.clusterName (prod)');
  });

  it('a selector of its own cluster is accepted', () => {
    expect(created(full.healthCheck()).spec).toMatchObject({ selector: { matchLabels: { 'clusterless.dev/cluster-name': 'prod' } } });
  });
});

it('MachineHealthCheck defaults: nodeStartupTimeout 10m, maxUnhealthy 100%, node not Ready for 5 minutes', () => {
  expect((created(minimal.MachineHealthCheck()) as MachineHealthCheck).spec).toMatchObject({
    nodeStartupTimeout: '10m',
    maxUnhealthy: '100%',
    unhealthyConditions: [
      { type: 'Ready', status: 'Unknown', timeout: '300s' },
      { type: 'Ready', status: 'False', timeout: '300s' },
    ],
  });
});
