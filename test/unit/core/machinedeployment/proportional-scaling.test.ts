/** Scaling a paused deployment: the cases of Kubernetes' pkg/controller/deployment/sync_test.go (TestScale). */
import { describe, expect, it } from 'vitest';
import { scaleProportionally } from '../../../../functions/core/machinedeployment/proportional-scaling.js';
import type { MachineSetReplicas } from '../../../../functions/core/machinedeployment/rollout-math.js';

const NEW = 3;
const OLD = 2;
const OLDER = 1;

/** A set as Kubernetes' rs() helper makes it, with the annotations the previous deployment size left on it. */
function rs(name: string, replicas: number, createdAt: number, before: { replicas: number; surge: number }, available = replicas): MachineSetReplicas {
  return {
    name,
    createdAt,
    replicas,
    actual: replicas,
    available,
    desiredReplicasAnnotation: before.replicas,
    maxReplicasAnnotation: before.replicas + before.surge,
  };
}

describe('scaleProportionally (TestScale)', () => {
  it.each([
    {
      name: 'normal scaling event: 10 -> 12',
      replicas: 12,
      surge: 0,
      before: { replicas: 10, surge: 0 },
      newRS: ['foo-v1', 10, NEW],
      oldRSs: [],
      expectNew: 12,
      expectOld: [],
    },
    {
      name: 'normal scaling event: 10 -> 5',
      replicas: 5,
      surge: 0,
      before: { replicas: 10, surge: 0 },
      newRS: ['foo-v1', 10, NEW],
      oldRSs: [],
      expectNew: 5,
      expectOld: [],
    },
    {
      name: 'proportional scaling: 5 -> 10',
      replicas: 10,
      surge: 0,
      before: { replicas: 5, surge: 0 },
      newRS: ['foo-v2', 2, NEW],
      oldRSs: [['foo-v1', 3, OLD]],
      expectNew: 4,
      expectOld: [6],
    },
    {
      name: 'proportional scaling: 5 -> 3',
      replicas: 3,
      surge: 0,
      before: { replicas: 5, surge: 0 },
      newRS: ['foo-v2', 2, NEW],
      oldRSs: [['foo-v1', 3, OLD]],
      expectNew: 1,
      expectOld: [2],
    },
    {
      name: 'proportional scaling: 9 -> 4',
      replicas: 4,
      surge: 0,
      before: { replicas: 9, surge: 0 },
      newRS: ['foo-v2', 8, NEW],
      oldRSs: [['foo-v1', 1, OLD]],
      expectNew: 4,
      expectOld: [0],
    },
    {
      name: 'proportional scaling: 7 -> 10',
      replicas: 10,
      surge: 0,
      before: { replicas: 7, surge: 0 },
      newRS: ['foo-v3', 2, NEW],
      oldRSs: [
        ['foo-v2', 3, OLD],
        ['foo-v1', 2, OLDER],
      ],
      expectNew: 3,
      expectOld: [4, 3],
    },
    {
      name: 'proportional scaling: 13 -> 8',
      replicas: 8,
      surge: 0,
      before: { replicas: 13, surge: 0 },
      newRS: ['foo-v3', 2, NEW],
      oldRSs: [
        ['foo-v2', 8, OLD],
        ['foo-v1', 3, OLDER],
      ],
      expectNew: 1,
      expectOld: [5, 2],
    },
    {
      name: 'leftover distribution: 3 -> 4',
      replicas: 4,
      surge: 0,
      before: { replicas: 3, surge: 0 },
      newRS: ['foo-v3', 1, NEW],
      oldRSs: [
        ['foo-v2', 1, OLD],
        ['foo-v1', 1, OLDER],
      ],
      expectNew: 2,
      expectOld: [1, 1],
    },
    {
      name: 'leftover distribution: 3 -> 2',
      replicas: 2,
      surge: 0,
      before: { replicas: 3, surge: 0 },
      newRS: ['foo-v3', 1, NEW],
      oldRSs: [
        ['foo-v2', 1, OLD],
        ['foo-v1', 1, OLDER],
      ],
      expectNew: 1,
      expectOld: [1, 0],
    },
    {
      name: 'proportional scaling (no new rs): 4 -> 5',
      replicas: 5,
      surge: 0,
      before: { replicas: 4, surge: 0 },
      newRS: undefined,
      oldRSs: [
        ['foo-v2', 2, OLD],
        ['foo-v1', 2, OLDER],
      ],
      expectNew: undefined,
      expectOld: [3, 2],
    },
    {
      name: 'proportional scaling: 6 -> 0',
      replicas: 0,
      surge: 0,
      before: { replicas: 6, surge: 0 },
      newRS: ['foo-v3', 3, NEW],
      oldRSs: [
        ['foo-v2', 2, OLD],
        ['foo-v1', 1, OLDER],
      ],
      expectNew: 0,
      expectOld: [0, 0],
    },
    {
      name: 'proportional scaling: 0 -> 6',
      replicas: 6,
      surge: 0,
      before: { replicas: 6, surge: 0 },
      newRS: ['foo-v3', 0, NEW],
      oldRSs: [
        ['foo-v2', 0, OLD],
        ['foo-v1', 0, OLDER],
      ],
      expectNew: 6,
      expectOld: [0, 0],
    },
    {
      name: 'deployment with surge pods',
      replicas: 20,
      surge: 2,
      before: { replicas: 10, surge: 2 },
      newRS: ['foo-v2', 6, NEW],
      oldRSs: [['foo-v1', 6, OLD]],
      expectNew: 11,
      expectOld: [11],
    },
    {
      name: 'change both surge and size',
      replicas: 50,
      surge: 6,
      before: { replicas: 10, surge: 3 },
      newRS: ['foo-v2', 5, NEW],
      oldRSs: [['foo-v1', 8, OLD]],
      expectNew: 22,
      expectOld: [34],
    },
    {
      name: 'change both size and template',
      replicas: 14,
      surge: 0,
      before: { replicas: 10, surge: 0 },
      newRS: undefined,
      oldRSs: [
        ['foo-v2', 7, NEW],
        ['foo-v1', 3, OLD],
      ],
      expectNew: undefined,
      expectOld: [10, 4],
    },
  ] as const)('$name', ({ replicas, surge, before, newRS, oldRSs, expectNew, expectOld }) => {
    // Prepare
    const newMS = newRS ? rs(newRS[0], newRS[1], newRS[2], before) : undefined;
    const olds = oldRSs.map(([n, r, t]) => rs(n, r, t, before));
    const s = {
      strategy: 'RollingUpdate' as const,
      replicas,
      maxSurge: surge,
      statusReplicas: before.replicas,
      newMS,
      oldMSs: olds,
      intents: new Map<string, number>(),
      notes: new Map<string, string[]>(),
    };
    // Act
    scaleProportionally(s);
    // Assess
    const size = (m: MachineSetReplicas) => s.intents.get(m.name) ?? m.replicas;
    if (newMS) expect(size(newMS)).toBe(expectNew);
    expect(olds.map(size)).toEqual(expectOld);
  });

  it.each([
    { name: "without max-replicas annotations, the deployment's last observed size counts (5 -> 10)", statusReplicas: 5, expectNew: 4, expectOld: 6 },
    { name: 'without annotations nor an observed size, the whole change goes to the largest set', statusReplicas: 0, expectNew: 2, expectOld: 8 },
  ])('$name', ({ statusReplicas, expectNew, expectOld }) => {
    // Prepare: Kubernetes' getReplicaSetFraction falls back to deployment.Status.Replicas.
    const bare = (name: string, replicas: number, createdAt: number): MachineSetReplicas => ({
      name,
      createdAt,
      replicas,
      actual: replicas,
      available: replicas,
    });
    const newMS = bare('foo-v2', 2, NEW);
    const old = bare('foo-v1', 3, OLD);
    const s = {
      strategy: 'RollingUpdate' as const,
      replicas: 10,
      maxSurge: 0,
      statusReplicas,
      newMS,
      oldMSs: [old],
      intents: new Map<string, number>(),
      notes: new Map<string, string[]>(),
    };
    // Act
    scaleProportionally(s);
    // Assess
    expect([s.intents.get('foo-v2') ?? 2, s.intents.get('foo-v1') ?? 3]).toEqual([expectNew, expectOld]);
  });

  it('saturated but broken new set does not affect old machines', () => {
    // Prepare
    const before = { replicas: 2, surge: 1 };
    const s = {
      strategy: 'RollingUpdate' as const,
      replicas: 2,
      maxSurge: 1,
      statusReplicas: 3,
      newMS: rs('foo-v2', 2, NEW, before, 0),
      oldMSs: [rs('foo-v1', 1, OLD, before)],
      intents: new Map<string, number>(),
      notes: new Map<string, string[]>(),
    };
    // Act
    scaleProportionally(s);
    // Assess
    expect(Object.fromEntries(s.intents)).toEqual({});
  });

  it('a saturated new set (all replicas available, annotations current) takes the old sets to 0', () => {
    // Prepare
    const before = { replicas: 3, surge: 1 };
    const s = {
      strategy: 'RollingUpdate' as const,
      replicas: 3,
      maxSurge: 1,
      statusReplicas: 4,
      newMS: rs('v2', 3, NEW, before),
      oldMSs: [rs('v1', 1, OLD, before)],
      intents: new Map<string, number>(),
      notes: new Map<string, string[]>(),
    };
    // Act
    scaleProportionally(s);
    // Assess
    expect(Object.fromEntries(s.intents)).toEqual({ v1: 0 });
  });
});

describe('scaleProportionally: edges and notes', () => {
  const paused = (o: {
    replicas: number;
    surge?: number;
    statusReplicas?: number;
    newMS?: MachineSetReplicas;
    oldMSs: MachineSetReplicas[];
    strategy?: 'RollingUpdate' | 'Recreate';
  }) => ({
    strategy: o.strategy ?? ('RollingUpdate' as const),
    replicas: o.replicas,
    maxSurge: o.surge ?? 0,
    statusReplicas: o.statusReplicas ?? 0,
    newMS: o.newMS,
    oldMSs: o.oldMSs,
    intents: new Map<string, number>(),
    notes: new Map<string, string[]>(),
  });

  it('the only set with replicas takes all of them and says so; at the right size it is left alone', () => {
    // Prepare
    const before = { replicas: 10, surge: 0 };
    const grow = paused({ replicas: 12, newMS: rs('foo-v1', 10, NEW, before), oldMSs: [] });
    const same = paused({ replicas: 10, newMS: rs('foo-v1', 10, NEW, before), oldMSs: [] });
    // Act
    scaleProportionally(grow);
    scaleProportionally(same);
    // Assess
    expect(Object.fromEntries(grow.intents)).toEqual({ 'foo-v1': 12 });
    expect(Object.fromEntries(grow.notes)).toEqual({ 'foo-v1': ['scale to 12 replicas: the only MachineSet with replicas takes all of them'] });
    expect([Object.fromEntries(same.intents), Object.fromEntries(same.notes)]).toEqual([{}, {}]);
  });

  it('when no set has replicas and there is no new set, the newest old set takes them (FindActiveOrLatest)', () => {
    // Prepare: the older set is listed first.
    const before = { replicas: 0, surge: 0 };
    const s = paused({ replicas: 3, oldMSs: [rs('foo-v1', 0, OLDER, before), rs('foo-v2', 0, OLD, before)] });
    // Act
    scaleProportionally(s);
    // Assess
    expect(Object.fromEntries(s.intents)).toEqual({ 'foo-v2': 3 });
  });

  it('a saturated new set takes only the old sets that still have replicas to 0, and says why', () => {
    // Prepare
    const before = { replicas: 3, surge: 1 };
    const s = paused({ replicas: 3, surge: 1, newMS: rs('v2', 3, NEW, before), oldMSs: [rs('v1', 1, OLD, before), rs('v0', 0, OLDER, before)] });
    // Act
    scaleProportionally(s);
    // Assess
    expect(Object.fromEntries(s.intents)).toEqual({ v1: 0 });
    expect(Object.fromEntries(s.notes)).toEqual({ v1: ['scale down to 0 replicas: the current MachineSet is saturated'] });
  });

  it.each([
    // IsSaturated needs the new set's spec.replicas, its desired-replicas annotation and its available machines
    // all at the deployment's replicas (Kubernetes deployment/util/deployment_util.go).
    {
      name: 'more spec.replicas than the deployment',
      newMS: rs('v2', 4, NEW, { replicas: 3, surge: 1 }, 3),
      before: { replicas: 3, surge: 1 },
      surge: 1,
      expected: { v2: 3 },
    },
    {
      name: 'a desired-replicas annotation of another size',
      newMS: rs('v2', 3, NEW, { replicas: 5, surge: 0 }),
      before: { replicas: 5, surge: 0 },
      surge: 0,
      expected: { v2: 2 },
    },
  ])('a new set with $name is not saturated: the old sets are scaled proportionally, not to 0', ({ newMS, before, surge, expected }) => {
    // Prepare
    const s = paused({ replicas: 3, surge, statusReplicas: before.replicas, newMS, oldMSs: [rs('v1', 1, OLD, before)] });
    // Act
    scaleProportionally(s);
    // Assess
    expect(Object.fromEntries(s.intents)).toEqual(expected);
  });

  it('scaled to 0, every set goes to 0 whatever maxSurge is', () => {
    // Prepare
    const before = { replicas: 5, surge: 1 };
    const s = paused({ replicas: 0, surge: 2, statusReplicas: 5, newMS: rs('v2', 3, NEW, before), oldMSs: [rs('v1', 2, OLD, before)] });
    // Act
    scaleProportionally(s);
    // Assess
    expect(Object.fromEntries(s.intents)).toEqual({ v2: 0, v1: 0 });
  });

  it('scaled down without annotations nor an observed size, the largest set gives up the whole change', () => {
    // Prepare
    const bare = (name: string, replicas: number, createdAt: number): MachineSetReplicas => ({
      name,
      createdAt,
      replicas,
      actual: replicas,
      available: replicas,
    });
    const s = paused({ replicas: 3, statusReplicas: 0, newMS: bare('v2', 2, NEW), oldMSs: [bare('v1', 3, OLD)] });
    // Act
    scaleProportionally(s);
    // Assess
    expect(Object.fromEntries(s.intents)).toEqual({ v1: 1 });
  });

  it('once the whole change is handed out, the other sets keep their size (a stale max-replicas annotation changes nothing)', () => {
    // Prepare: v1 was last scaled when the deployment's maximum was 20.
    const s = paused({
      replicas: 12,
      statusReplicas: 10,
      newMS: rs('v2', 6, NEW, { replicas: 6, surge: 0 }),
      oldMSs: [rs('v1', 4, OLD, { replicas: 20, surge: 0 })],
    });
    // Act
    scaleProportionally(s);
    // Assess
    expect(Object.fromEntries(s.intents)).toEqual({ v2: 8 });
  });

  it('a set gets no more than what is left of the change; the leftover goes to the first set, and notes say each move', () => {
    // Prepare: 12 -> 15, two sets of 6: each fraction rounds 7.5 up to 8, but only 3 replicas are to add.
    const before = { replicas: 12, surge: 0 };
    const s = paused({ replicas: 15, statusReplicas: 12, newMS: rs('v2', 6, NEW, before), oldMSs: [rs('v1', 6, OLD, before)] });
    // Act
    scaleProportionally(s);
    // Assess: equal sizes, so the newer set is first when adding (MachineSetsBySizeNewer).
    expect(Object.fromEntries(s.intents)).toEqual({ v2: 8, v1: 7 });
    expect(Object.fromEntries(s.notes)).toEqual({
      v2: ['scale proportionally from 6 to 8 replicas (12 -> 15 across MachineSets, rollout paused)'],
      v1: ['scale proportionally from 6 to 7 replicas (12 -> 15 across MachineSets, rollout paused)'],
    });
  });

  it('the rounding leftover goes to the largest set, and sets that keep their size get no note', () => {
    // Prepare: 7 -> 8 over sets of 2, 2 and 3: every fraction rounds down to no change.
    const before = { replicas: 7, surge: 0 };
    const s = paused({ replicas: 8, statusReplicas: 7, newMS: rs('v3', 3, NEW, before), oldMSs: [rs('v1', 2, OLDER, before), rs('v2', 2, OLD, before)] });
    // Act
    scaleProportionally(s);
    // Assess
    expect(Object.fromEntries(s.intents)).toEqual({ v3: 4 });
    expect([...s.notes.keys()]).toEqual(['v3']);
  });

  it('a paused Recreate deployment with several sets is not scaled proportionally (only RollingUpdate is)', () => {
    // Prepare
    const before = { replicas: 5, surge: 0 };
    const s = paused({ strategy: 'Recreate', replicas: 10, statusReplicas: 5, newMS: rs('v2', 2, NEW, before), oldMSs: [rs('v1', 3, OLD, before)] });
    // Act
    scaleProportionally(s);
    // Assess
    expect(Object.fromEntries(s.intents)).toEqual({});
  });
});
