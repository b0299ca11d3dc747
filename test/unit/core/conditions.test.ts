import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { condition as conditionSchema, type Condition } from '../../../functions/api/common.js';
import {
  ConditionType,
  getCondition,
  isFalse,
  isTrue,
  isUnknown,
  mirrorCondition,
  removeCondition,
  setCondition,
  setConditions,
  summaryCondition,
  timestamp,
  type SummarisedType,
} from '../../../functions/core/conditions.js';

const T1 = new Date('2026-01-01T00:00:00.750Z');
const T2 = new Date('2026-01-01T01:00:00Z');
const ready = (status: Condition['status'], reason = 'R', extra: Partial<Condition> = {}): Condition => ({
  type: 'Ready',
  status,
  reason,
  lastTransitionTime: '2025-12-31T00:00:00Z',
  ...extra,
});

describe('setCondition', () => {
  it.each([
    {
      name: 'adds a missing condition stamped with the time, in whole seconds, and the generation',
      before: [] as Condition[],
      input: { type: 'Ready' as const, status: 'True' as const, reason: 'Ok' },
      expected: [{ type: 'Ready', status: 'True', reason: 'Ok', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 3 }],
    },
    {
      name: 'keeps lastTransitionTime when only the reason and message change',
      before: [ready('False', 'Old')],
      input: { type: 'Ready' as const, status: 'False' as const, reason: 'New', message: 'why' },
      expected: [{ type: 'Ready', status: 'False', reason: 'New', message: 'why', lastTransitionTime: '2025-12-31T00:00:00Z', observedGeneration: 3 }],
    },
    {
      name: 'moves lastTransitionTime when the status changes',
      before: [ready('False')],
      input: { type: 'Ready' as const, status: 'True' as const, reason: 'R' },
      expected: [{ type: 'Ready', status: 'True', reason: 'R', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 3 }],
    },
    {
      name: 'uses a given transition time (a mirrored node condition) when the status changes',
      before: [ready('False')],
      input: { type: 'Ready' as const, status: 'True' as const, reason: 'R', lastTransitionTime: '2025-12-31T12:00:00Z' },
      expected: [{ type: 'Ready', status: 'True', reason: 'R', lastTransitionTime: '2025-12-31T12:00:00Z', observedGeneration: 3 }],
    },
  ])('$name', ({ before, input, expected }) => {
    // Prepare
    const snapshot = structuredClone(before);
    // Act
    const after = setCondition(before, input, T1, 3);
    // Assess
    expect(after).toEqual(expected);
    expect(before).toEqual(snapshot);
  });

  it('returns the very same array when nothing changed', () => {
    // Prepare
    const before = [ready('True', 'R', { observedGeneration: 3 })];
    // Act
    const after = setCondition(before, { type: 'Ready', status: 'True', reason: 'R' }, T2, 3);
    // Assess
    expect(after).toBe(before);
  });

  it('counts a new observedGeneration as a change', () => {
    // Prepare
    const before = [ready('True', 'R', { observedGeneration: 2 })];
    // Act
    const after = setCondition(before, { type: 'Ready', status: 'True', reason: 'R' }, T2, 3);
    // Assess
    expect(after).not.toBe(before);
    expect(after[0]).toMatchObject({ observedGeneration: 3, lastTransitionTime: '2025-12-31T00:00:00Z' });
  });

  it('orders Available and Ready first, Paused and Deleting last, the rest by type', () => {
    // Act
    const after = setConditions(
      [],
      (['Deleting', 'NodeHealthy', 'Ready', 'Paused', 'InfrastructureReady', 'Available'] as const).map((type) => ({ type, status: 'True' as const })),
      T1,
    );
    // Assess
    expect(after.map((c) => c.type)).toEqual(['Available', 'Ready', 'InfrastructureReady', 'NodeHealthy', 'Paused', 'Deleting']);
  });

  it('changes lastTransitionTime exactly when the status changes, and is idempotent (property)', () => {
    const status = fc.constantFrom<Condition['status']>('True', 'False', 'Unknown');
    fc.assert(
      fc.property(status, status, fc.string(), fc.string(), (s1, s2, r1, r2) => {
        // Prepare
        const first = setCondition([], { type: 'Ready', status: s1, reason: r1 }, T1);
        // Act
        const second = setCondition(first, { type: 'Ready', status: s2, reason: r2 }, T2);
        const third = setCondition(second, { type: 'Ready', status: s2, reason: r2 }, new Date('2030-01-01T00:00:00Z'));
        // Assess
        expect(second[0]!.lastTransitionTime).toBe(s1 === s2 ? timestamp(T1) : timestamp(T2));
        expect(third).toBe(second);
      }),
    );
  });
});

describe('getters', () => {
  it.each([
    { name: 'True', conditions: [ready('True')], t: true, f: false, u: false },
    { name: 'False', conditions: [ready('False')], t: false, f: true, u: false },
    { name: 'Unknown', conditions: [ready('Unknown')], t: false, f: false, u: true },
    { name: 'missing counts as Unknown', conditions: [] as Condition[], t: false, f: false, u: true },
  ])('$name', ({ conditions, t, f, u }) => {
    // Act & Assess
    expect([isTrue(conditions, 'Ready'), isFalse(conditions, 'Ready'), isUnknown(conditions, 'Ready')]).toEqual([t, f, u]);
  });

  it('removes a condition, and returns the same array when it is not there', () => {
    // Prepare
    const before = [ready('True')];
    // Act & Assess
    expect(removeCondition(before, 'Ready')).toEqual([]);
    expect(removeCondition(before, 'NodeHealthy')).toBe(before);
    expect(getCondition(before, 'Ready')?.status).toBe('True');
  });
});

describe('mirrorCondition', () => {
  it.each([
    {
      name: 'copies status, reason, message and transition time under the target type',
      source: [{ ...ready('False', 'NotReady'), type: 'Available', message: 'etcd down' }],
      expected: { type: 'ControlPlaneAvailable', status: 'False', reason: 'NotReady', message: 'etcd down', lastTransitionTime: '2025-12-31T00:00:00Z' },
    },
    {
      name: 'reports a missing source as Unknown, NotYetReported',
      source: [] as Condition[],
      expected: { type: 'ControlPlaneAvailable', status: 'Unknown', reason: 'NotYetReported', message: 'Condition Available not yet reported' },
    },
  ])('$name', ({ source, expected }) => {
    // Act & Assess
    expect(mirrorCondition(source, 'Available', 'ControlPlaneAvailable')).toEqual(expected);
  });

  it('uses the fallback when the source is missing', () => {
    // Act & Assess
    expect(mirrorCondition(undefined, 'Available', 'ControlPlaneAvailable', { status: 'False', reason: 'DoesNotExist' })).toEqual({
      type: 'ControlPlaneAvailable',
      status: 'False',
      reason: 'DoesNotExist',
    });
  });
});

describe('summaryCondition', () => {
  const c = (type: SummarisedType, status: Condition['status'], message?: string): Condition => ({
    type,
    status,
    reason: `${type}${status}`,
    lastTransitionTime: '2025-12-31T00:00:00Z',
    ...(message ? { message } : {}),
  });
  interface SummaryCase {
    name: string;
    conditions: Condition[];
    types: SummarisedType[];
    negative?: SummarisedType[];
    status: Condition['status'];
    reason: string;
    message: string | undefined;
  }
  it.each<SummaryCase>([
    {
      name: 'all True is True',
      conditions: [c('InfrastructureReady', 'True'), c('NodeHealthy', 'True')],
      types: ['InfrastructureReady', 'NodeHealthy'],
      status: 'True',
      reason: 'InfoReported',
      message: undefined,
    },
    {
      name: 'any False is False, the issues listed in the order asked',
      conditions: [c('NodeHealthy', 'False', 'b is down'), c('InfrastructureReady', 'Unknown'), c('HealthCheckSucceeded', 'True')],
      types: ['InfrastructureReady', 'NodeHealthy', 'HealthCheckSucceeded'],
      status: 'False',
      reason: 'IssuesReported',
      message: '* InfrastructureReady: InfrastructureReadyUnknown\n* NodeHealthy: b is down',
    },
    {
      name: 'Unknown wins over True',
      conditions: [c('InfrastructureReady', 'True'), c('NodeHealthy', 'Unknown')],
      types: ['InfrastructureReady', 'NodeHealthy'],
      status: 'Unknown',
      reason: 'UnknownReported',
      message: '* NodeHealthy: NodeHealthyUnknown',
    },
    {
      name: 'a missing type counts as Unknown, NotYetReported',
      conditions: [c('InfrastructureReady', 'True'), c('HealthCheckSucceeded', 'True')],
      types: ['InfrastructureReady', 'NodeHealthy', 'HealthCheckSucceeded'],
      status: 'Unknown',
      reason: 'UnknownReported',
      message: '* NodeHealthy: Condition not yet reported',
    },
    {
      name: 'True of a negative-polarity type is an issue',
      conditions: [c('InfrastructureReady', 'True'), c('NodeHealthy', 'True'), c('HealthCheckSucceeded', 'True')],
      types: ['InfrastructureReady', 'NodeHealthy', 'HealthCheckSucceeded'],
      negative: ['HealthCheckSucceeded'],
      status: 'False',
      reason: 'IssuesReported',
      message: '* HealthCheckSucceeded: HealthCheckSucceededTrue',
    },
  ])('$name', ({ conditions, types, status, reason, message, negative }) => {
    // Act
    const summary = summaryCondition(conditions, 'Ready', types, { ...(negative ? { negativePolarity: negative } : {}) });
    // Assess
    expect(summary).toEqual({ type: 'Ready', status, reason, ...(message ? { message } : {}) });
  });

  it('ignores missing types named in ignoreIfMissing and uses the kind’s own reasons', () => {
    // Act
    const summary = summaryCondition([c('InfrastructureReady', 'True')], 'Ready', ['InfrastructureReady', 'NodeHealthy'], {
      ignoreIfMissing: ['NodeHealthy'],
      reasons: { issue: 'NotReady', unknown: 'ReadyUnknown', info: 'Ready' },
    });
    // Assess
    expect(summary).toEqual({ type: 'Ready', status: 'True', reason: 'Ready' });
  });
});

describe('condition types', () => {
  it('takes only our condition types, so a misspelt name does not compile', () => {
    // Prepare
    const conditions = [ready('True')];
    // Act & Assess: tsc fails on an unused @ts-expect-error, so each line below must stay an error.
    // @ts-expect-error: 'Readdy' is no condition type of ours.
    expect(isTrue(conditions, 'Readdy')).toBe(false);
    // @ts-expect-error: neither is 'NodeHealty'.
    expect(setCondition(conditions, { type: 'NodeHealty', status: 'True' }, T1)).toHaveLength(2);
    // @ts-expect-error: a summary reads our types too.
    expect(summaryCondition(conditions, 'Ready', ['Readdy']).status).toBe('Unknown');
    expect(isTrue(conditions, ConditionType.Ready)).toBe(true);
  });

  it('keeps conditions of types it does not know, as read from the store', () => {
    // Prepare: another writer's condition, which the API's schema accepts.
    const stored: Condition[] = [conditionSchema.parse({ type: 'example.com/Custom', status: 'False', lastTransitionTime: '2025-12-31T00:00:00Z' })];
    // Act
    const after = setCondition(stored, { type: 'Ready', status: 'True', reason: 'Ok' }, T1);
    // Assess
    expect(after.map((c) => `${c.type}=${c.status}`)).toEqual(['Ready=True', 'example.com/Custom=False']);
  });
});

describe('setCondition, more (util/conditions setter.go and sort.go)', () => {
  it('a first condition on no conditions at all is the only one', () => {
    expect(setCondition(undefined, { type: 'Ready', status: 'True', reason: 'R' }, T2)).toEqual([
      { type: 'Ready', status: 'True', reason: 'R', lastTransitionTime: '2026-01-01T01:00:00Z' },
    ]);
  });

  it('an empty message is no message', () => {
    expect(setCondition([], { type: 'Ready', status: 'True', reason: 'R', message: '' }, T2)).toEqual([
      { type: 'Ready', status: 'True', reason: 'R', lastTransitionTime: '2026-01-01T01:00:00Z' },
    ]);
  });

  it('a new reason alone is a change: the condition is rewritten, its transition time kept', () => {
    const before = [ready('True', 'Old')];
    const after = setCondition(before, { type: 'Ready', status: 'True', reason: 'New' }, T2);
    expect(after).not.toBe(before);
    expect(after).toEqual([ready('True', 'New')]);
  });

  it('a new message alone is a change, and so is a message dropped: rewritten, the transition time kept', () => {
    const before = [ready('True', 'R', { message: 'old' })];
    const changed = setCondition(before, { type: 'Ready', status: 'True', reason: 'R', message: 'new' }, T2);
    const dropped = setCondition(before, { type: 'Ready', status: 'True', reason: 'R', message: '' }, T2);
    expect([changed, dropped]).toEqual([[ready('True', 'R', { message: 'new' })], [ready('True', 'R')]]);
    expect(setCondition(before, { type: 'Ready', status: 'True', reason: 'R', message: 'old' }, T2)).toBe(before);
  });

  it("a condition that still carries v1beta1's severity is rewritten without it", () => {
    const before = [ready('True', 'R', { severity: 'Info' })];
    const after = setCondition(before, { type: 'Ready', status: 'True', reason: 'R' }, T2);
    expect(after).toEqual([ready('True', 'R')]);
  });

  it('sorts Available and Ready first, Paused and Deleting last, the others by type', () => {
    // Act: set in reverse order.
    let out: Condition[] = [];
    for (const type of ['Deleting', 'Paused', 'UpToDate', 'ScalingUp', 'RollingOut', 'MachinesReady', 'Ready', 'Available'] as const)
      out = setCondition(out, { type, status: 'False', reason: 'R' }, T2);
    // Assess
    expect(out.map((c) => c.type)).toEqual(['Available', 'Ready', 'MachinesReady', 'RollingOut', 'ScalingUp', 'UpToDate', 'Paused', 'Deleting']);
  });
});

describe('summaryCondition, more (util/conditions summary.go)', () => {
  it('of no conditions at all: Unknown, every type not yet reported', () => {
    expect(summaryCondition(undefined, 'Ready', ['MachinesReady'])).toMatchObject({
      status: 'Unknown',
      message: '* MachinesReady: Condition not yet reported',
    });
  });

  it('with every type missing and ignored when missing: Unknown, not True', () => {
    expect(summaryCondition([], 'Ready', ['MachinesReady'], { ignoreIfMissing: ['MachinesReady'] }).status).toBe('Unknown');
  });

  it('when True, lists the messages the conditions it read give', () => {
    const conditions = [
      { type: 'MachinesReady', status: 'True', reason: 'Ready', message: '3 of 3 ready', lastTransitionTime: '2026-01-01T00:00:00Z' },
    ] as Condition[];
    expect(summaryCondition(conditions, 'Ready', ['MachinesReady'])).toMatchObject({ status: 'True', message: '* MachinesReady: 3 of 3 ready' });
  });
});
