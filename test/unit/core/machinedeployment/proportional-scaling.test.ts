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
