/**
 * The scale intents of one RollingUpdate / OnDelete step, with the cases of cluster-api's
 * machinedeployment_rollout_rollingupdate_test.go (TestReconcileNewMachineSet,
 * Test_reconcileOldMachineSetsRollingUpdate, Test_reconcileDeadlockBreaker) and
 * machinedeployment_rollout_ondelete_test.go, run in Cluster API's worst-case mode (no
 * availableRemovedAt), plus the exact mode clusterless adds.
 */
import { describe, expect, it } from 'vitest';
import {
  addNote,
  newRolloutState,
  reconcileDeadlockBreaker,
  reconcileNewMachineSet,
  reconcileOldMachineSetsOnDelete,
  reconcileOldMachineSetsRollingUpdate,
  type RolloutState,
} from '../../../../functions/core/machinedeployment/rolling-update.js';
import type { MachineSetReplicas, StrategyType } from '../../../../functions/core/machinedeployment/rollout-math.js';

/** createMS(name, spec.replicas, status.replicas, status.availableReplicas) as in Cluster API's tests. */
function ms(name: string, replicas: number, actual = replicas, available = actual): MachineSetReplicas {
  return { name, createdAt: Number(name.replace(/\D/g, '')), replicas, actual, available };
}

function state(opts: {
  strategy?: StrategyType;
  replicas: number;
  maxSurge?: number;
  maxUnavailable?: number;
  newMS: MachineSetReplicas;
  oldMSs?: MachineSetReplicas[];
  intents?: Record<string, number | undefined>;
}): RolloutState {
  const s = newRolloutState({
    strategy: opts.strategy ?? 'RollingUpdate',
    replicas: opts.replicas,
    maxSurge: opts.maxSurge ?? 0,
    maxUnavailable: opts.maxUnavailable ?? 0,
    newMS: opts.newMS,
    oldMSs: opts.oldMSs ?? [],
  });
  for (const [k, v] of Object.entries(opts.intents ?? {})) if (v !== undefined) s.intents.set(k, v);
  return s;
}

const intents = (s: RolloutState) => Object.fromEntries(s.intents);
const notes = (s: RolloutState) => Object.fromEntries(s.notes);

describe('reconcileNewMachineSet (TestReconcileNewMachineSet)', () => {
  it.each([
    {
      name: 'RollingUpdate strategy: Scale up: 0 -> 2',
      replicas: 2,
      maxSurge: 2,
      newMS: ms('new', 0),
      oldMSs: [],
      expected: 2,
      note: '0 current Machines < 2 MachineDeployment spec.replicas + 2 maxSurge',
    },
    {
      name: 'RollingUpdate strategy: Scale down: 2 -> 0',
      replicas: 0,
      maxSurge: 2,
      newMS: ms('new', 2),
      oldMSs: [],
      expected: 0,
      note: 'scale down to align MachineSet spec.replicas to MachineDeployment spec.replicas',
    },
    {
      name: 'RollingUpdate strategy: Scale up does not go above maxSurge (3+2)',
      replicas: 3,
      maxSurge: 2,
      newMS: ms('new', 1),
      oldMSs: [ms('old3', 3)],
      expected: 2,
      note: '4 current Machines < 3 MachineDeployment spec.replicas + 2 maxSurge',
    },
    {
      name: 'RollingUpdate strategy: Scale up accounts for deleting Machines to honour maxSurge',
      replicas: 1,
      maxSurge: 0,
      newMS: ms('new', 0),
      oldMSs: [ms('old1', 0, 1, 0)],
      expected: 0,
      note: undefined,
    },
  ])('$name', ({ replicas, maxSurge, newMS, oldMSs, expected, note }) => {
    // Prepare
    const s = state({ replicas, maxSurge, newMS, oldMSs });
    // Act
    reconcileNewMachineSet(s);
    // Assess
    expect(s.intents.get('new') ?? newMS.replicas).toBe(expected);
    expect(s.notes.get('new')).toEqual(note ? [note] : undefined);
  });
});

const ALIGN = 'scale down to align to existing Machines or scale down by removing unavailable replicas (and no available replicas exist on the MachineSet)';

describe('reconcileOldMachineSetsRollingUpdate, worst case (Test_reconcileOldMachineSetsRollingUpdate)', () => {
  it.each([
    {
      name: 'no op if there are no replicas on old machinesets',
      replicas: 10,
      surge: 1,
      unav: 0,
      newMS: ms('ms2', 10),
      oldMSs: [ms('ms1', 0)],
      expect: {},
      notes: {},
    },
    {
      name: 'do not scale down if replicas is equal to minAvailable replicas',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms2', 1),
      oldMSs: [ms('ms1', 2)],
      expect: {},
      notes: {},
    },
    {
      name: 'do not scale down if replicas is less then minAvailable replicas',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms2', 1),
      oldMSs: [ms('ms1', 2, 2, 1)],
      expect: {},
      notes: {},
    },
    {
      name: 'do not scale down if there are more replicas than minAvailable replicas, but scale down from a previous reconcile already takes the availability buffer',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms2', 1),
      oldMSs: [ms('ms1', 2, 3, 3)],
      expect: {},
      notes: {},
    },
    {
      name: 'do not scale down ..., scale down from a previous reconcile on another MS',
      replicas: 6,
      surge: 3,
      unav: 1,
      newMS: ms('ms3', 3, 0, 0),
      oldMSs: [ms('ms1', 2, 3, 3), ms('ms2', 3, 3, 3)],
      expect: {},
      notes: {},
    },
    {
      name: 'do not scale down if there are unavailable replicas on the new MachineSet (maxSurge 1, maxUnavailable 0), all machines unavailable',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms2', 1, 1, 0),
      oldMSs: [ms('ms1', 3, 3, 0)],
      expect: {},
      notes: {},
    },
    {
      name: 'do not scale down if there are unavailable replicas on the new MachineSet (maxSurge 0, maxUnavailable 1), all machines unavailable',
      replicas: 3,
      surge: 0,
      unav: 1,
      newMS: ms('ms2', 1, 1, 0),
      oldMSs: [ms('ms1', 2, 2, 0)],
      expect: {},
      notes: {},
    },
    {
      name: 'do not scale down ..., but scale down from current reconcile already takes the availability buffer (newMS is scaling down)',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms2', 2),
      oldMSs: [ms('ms1', 2)],
      intents: { ms2: 1 },
      expect: { ms2: 1 },
      notes: {},
    },
    {
      name: 'do not scale down ..., but scale down from current reconcile already takes the availability buffer (oldMS is scaling down)',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms2', 2),
      oldMSs: [ms('ms1', 2)],
      intents: { ms1: 1 },
      expect: { ms1: 1 },
      notes: {},
    },
    {
      name: 'do not scale down replicas ..., but not all the replicas are available (unavailability on newMS)',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms2', 1, 1, 0),
      oldMSs: [ms('ms1', 3)],
      expect: {},
      notes: {},
    },
    {
      name: 'do not scale down replicas ..., but not all the replicas are available (unavailability on oldMS)',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms2', 1),
      oldMSs: [ms('ms1', 3, 3, 2)],
      expect: {},
      notes: {},
    },
    {
      name: 'scale down replicas when there are more replicas than minAvailable replicas, all replicas are available',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms2', 1),
      oldMSs: [ms('ms1', 3)],
      expect: { ms1: 2 },
      notes: { ms1: ['4 available replicas > 3 minimum available replicas'] },
    },
    {
      name: 'scale down replicas ..., unavailable replicas are scaled down first',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms4', 1),
      oldMSs: [ms('ms1', 2), ms('ms2', 1, 1, 0), ms('ms3', 2, 2, 0)],
      expect: { ms2: 0, ms3: 0 },
      notes: { ms2: [ALIGN], ms3: [ALIGN] },
    },
    {
      name: 'scale down replicas ..., unavailable replicas are scaled down first, available replicas are scaled down when unavailable replicas are gone',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms4', 1),
      oldMSs: [ms('ms1', 3), ms('ms2', 1, 1, 0), ms('ms3', 2, 2, 0)],
      expect: { ms2: 0, ms3: 0, ms1: 2 },
      notes: { ms1: ['4 available replicas > 3 minimum available replicas'], ms2: [ALIGN], ms3: [ALIGN] },
    },
    {
      name: 'scale down replicas ..., available replicas are scaled down when unavailable replicas are gone is not affected by replicas without machines',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms4', 1),
      oldMSs: [ms('ms1', 4, 3, 3), ms('ms2', 2, 1, 0), ms('ms3', 5, 2, 0)],
      expect: { ms2: 0, ms3: 0, ms1: 2 },
      notes: { ms1: [ALIGN, '4 available replicas > 3 minimum available replicas'], ms2: [ALIGN], ms3: [ALIGN] },
    },
    {
      name: 'scale down replicas ..., unavailable replicas are scaled down first, scale down stops before breaching minAvailable replicas',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms4', 1),
      oldMSs: [ms('ms1', 1), ms('ms2', 1, 1, 0), ms('ms3', 2, 2, 1)],
      expect: { ms2: 0 },
      notes: { ms2: [ALIGN] },
    },
    {
      name: 'scale down replicas ..., scale down stops before breaching minAvailable replicas is not affected by replicas without machines',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms4', 1),
      oldMSs: [ms('ms1', 2, 1, 1), ms('ms2', 3, 1, 0), ms('ms3', 3, 2, 1)],
      expect: { ms1: 1, ms2: 0, ms3: 2 },
      notes: { ms1: [ALIGN], ms2: [ALIGN], ms3: [ALIGN] },
    },
    {
      name: 'scale down replicas ..., scale down keeps into account scale downs from a previous reconcile',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms2', 2),
      oldMSs: [ms('ms1', 3, 4, 4)],
      expect: { ms1: 2 },
      notes: { ms1: ['6 available replicas > 3 minimum available replicas'] },
    },
    {
      name: 'scale down replicas ..., scale down keeps into account scale downs from the current reconcile (newMS is scaling down)',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms2', 2),
      oldMSs: [ms('ms1', 3)],
      intents: { ms2: 1 },
      expect: { ms2: 1, ms1: 2 },
      notes: { ms1: ['5 available replicas > 3 minimum available replicas'] },
    },
    {
      name: 'scale down replicas ..., scale down keeps into account scale downs from the current reconcile (oldMS is scaling down)',
      replicas: 3,
      surge: 1,
      unav: 0,
      newMS: ms('ms2', 2),
      oldMSs: [ms('ms1', 3)],
      intents: { ms1: 2 },
      expect: { ms1: 1 },
      notes: { ms1: ['5 available replicas > 3 minimum available replicas'] },
    },
  ])('$name', ({ replicas, surge, unav, newMS, oldMSs, intents: given, expect: want, notes: wantNotes }) => {
    // Prepare
    const s = state({ replicas, maxSurge: surge, maxUnavailable: unav, newMS, oldMSs, ...(given ? { intents: given } : {}) });
    // Act
    reconcileOldMachineSetsRollingUpdate(s);
    // Assess
    expect(intents(s)).toEqual(want);
    expect(notes(s)).toEqual(wantNotes);
  });
});

describe('reconcileOldMachineSetsRollingUpdate, exact (the MachineSet planner runs in the same reconcile)', () => {
  /** A set whose deletion order removes `order` (true = available) in that order. */
  function exact(name: string, replicas: number, order: boolean[]): MachineSetReplicas {
    return {
      ...ms(name, replicas, order.length, order.filter(Boolean).length),
      availableRemovedAt: (r) => order.slice(0, Math.max(order.length - r, 0)).filter(Boolean).length,
    };
  }

  it('scales an old set down when its deletion order removes the unavailable machine first (Cluster API would wait)', () => {
    // Prepare: replicas 3, surge 1, unavailable 0; old set 3 machines, 1 unavailable (deleted first); new set 1 available.
    const worst = state({ replicas: 3, maxSurge: 1, newMS: ms('ms2', 1), oldMSs: [ms('ms1', 3, 3, 2)] });
    const precise = state({ replicas: 3, maxSurge: 1, newMS: exact('ms2', 1, [true]), oldMSs: [exact('ms1', 3, [false, true, true])] });
    // Act
    reconcileOldMachineSetsRollingUpdate(worst);
    reconcileOldMachineSetsRollingUpdate(precise);
    // Assess
    expect(intents(worst)).toEqual({});
    expect(intents(precise)).toEqual({ ms1: 2 });
  });

  it('stops where the next deletion would remove an available machine beyond the budget', () => {
    // Prepare: replicas 4, surge 1, unavailable 1 -> 3 must stay available. Old set: available, unavailable, available, available.
    const s = state({ replicas: 4, maxSurge: 1, maxUnavailable: 1, newMS: exact('ms2', 1, [true]), oldMSs: [exact('ms1', 4, [true, false, true, true])] });
    // Act
    reconcileOldMachineSetsRollingUpdate(s);
    // Assess: 4 available of 5; one available may go; the order removes available then unavailable: 4 -> 2 costs 1.
    expect(intents(s)).toEqual({ ms1: 2 });
  });

  it('does not count on an unavailable machine that its deletion order removes after an available one; the deadlock breaker then does', () => {
    // Prepare: the old set's first victim is available (say it carries delete-machine), its unavailable machine comes second.
    const s = state({ replicas: 3, maxSurge: 1, newMS: exact('ms2', 1, [true]), oldMSs: [exact('ms1', 3, [true, false, true])] });
    // Act
    reconcileOldMachineSetsRollingUpdate(s);
    const before = intents(s);
    reconcileDeadlockBreaker(s);
    // Assess
    expect(before).toEqual({});
    expect(intents(s)).toEqual({ ms1: 2 });
    expect(s.deadlockBroken).toBe(true);
  });
});

describe('reconcileDeadlockBreaker (Test_reconcileDeadlockBreaker)', () => {
  const UNBLOCK = 'scaling down by 1 to unblock rollout stuck due to unavailable Machine on oldMS';
  it.each([
    { name: 'no op if there are no replicas on old machinesets', newMS: ms('ms2', 10), oldMSs: [ms('ms1', 0)], given: {}, expect: {}, notes: {} },
    { name: 'no op if all the replicas on OldMS are available', newMS: ms('ms2', 5), oldMSs: [ms('ms1', 5)], given: {}, expect: {}, notes: {} },
    {
      name: 'no op if there are scale operation still in progress from a previous reconcile on newMS',
      newMS: ms('ms2', 6, 5, 5),
      oldMSs: [ms('ms1', 5, 5, 4)],
      given: {},
      expect: {},
      notes: {},
    },
    {
      name: 'no op if there are scale operation still in progress from a previous reconcile on oldMS',
      newMS: ms('ms2', 5),
      oldMSs: [ms('ms1', 4, 5, 4)],
      given: {},
      expect: {},
      notes: {},
    },
    {
      name: 'no op if there are scale operation from the current reconcile on newMS',
      newMS: ms('ms2', 5),
      oldMSs: [ms('ms1', 5, 5, 4)],
      given: { ms2: 6 },
      expect: { ms2: 6 },
      notes: {},
    },
    {
      name: 'no op if there are scale operation from the current reconcile on oldMS',
      newMS: ms('ms2', 5),
      oldMSs: [ms('ms1', 5, 5, 4)],
      given: { ms1: 4 },
      expect: { ms1: 4 },
      notes: {},
    },
    { name: 'wait for unavailable replicas on the newMS if any', newMS: ms('ms2', 5, 5, 3), oldMSs: [ms('ms1', 5, 5, 4)], given: {}, expect: {}, notes: {} },
    { name: 'unblock a deadlock when necessary', newMS: ms('ms2', 5), oldMSs: [ms('ms1', 5, 5, 3)], given: {}, expect: { ms1: 4 }, notes: { ms2: [UNBLOCK] } },
  ])('$name', ({ newMS, oldMSs, given, expect: want, notes: wantNotes }) => {
    // Prepare
    const s = state({ replicas: 5, maxSurge: 1, newMS, oldMSs, intents: given });
    // Act
    reconcileDeadlockBreaker(s);
    // Assess
    expect(intents(s)).toEqual(want);
    expect(notes(s)).toEqual(wantNotes);
    expect(s.deadlockBroken === true).toBe(Object.keys(wantNotes).length > 0);
  });
});

describe('reconcileDeadlockBreaker with several old sets', () => {
  it('scales down the old set that has the unavailable machine, not an older one whose machines are all available', () => {
    // Prepare: ms1 (oldest) is fully available, ms2 has one unavailable machine; the new set is fully available.
    const s = state({ replicas: 5, maxSurge: 1, newMS: ms('ms3', 3), oldMSs: [ms('ms1', 1), ms('ms2', 2, 2, 1)] });
    // Act
    reconcileDeadlockBreaker(s);
    // Assess
    expect(intents(s)).toEqual({ ms2: 1 });
    expect(s.deadlockBroken).toBe(true);
  });
});

describe('reconcileOldMachineSetsOnDelete (machinedeployment_rollout_ondelete_test.go)', () => {
  it.each([
    {
      name: 'do not scale oldMSs when no machines have been deleted',
      replicas: 4,
      newMS: ms('ms3', 0),
      oldMSs: [ms('ms1', 3), ms('ms2', 1)],
      given: {},
      expect: {},
      notes: {},
    },
    {
      name: 'scale down oldMSs when machines have been deleted',
      replicas: 3,
      newMS: ms('ms3', 0),
      oldMSs: [ms('ms1', 3, 2), ms('ms2', 1, 0)],
      given: {},
      expect: { ms1: 2, ms2: 0 },
      notes: { ms1: ['scale down to align to existing Machines'], ms2: ['scale down to align to existing Machines'] },
    },
    {
      name: 'scale down oldMSs when md has been scaled down',
      replicas: 3,
      newMS: ms('ms3', 2),
      oldMSs: [ms('ms1', 1), ms('ms2', 2)],
      given: {},
      expect: { ms1: 0, ms2: 1 },
      notes: {
        ms1: ['scale down to align MachineSet spec.replicas to MachineDeployment spec.replicas'],
        ms2: ['scale down to align MachineSet spec.replicas to MachineDeployment spec.replicas'],
      },
    },
    {
      name: 'scale down oldMSs when md has been scaled down, keeps into account newMS scale intent',
      replicas: 3,
      newMS: ms('ms3', 1),
      oldMSs: [ms('ms1', 1), ms('ms2', 2)],
      given: { ms3: 2 },
      expect: { ms3: 2, ms1: 0, ms2: 1 },
      notes: {
        ms1: ['scale down to align MachineSet spec.replicas to MachineDeployment spec.replicas'],
        ms2: ['scale down to align MachineSet spec.replicas to MachineDeployment spec.replicas'],
      },
    },
    {
      name: 'scale down oldMSs when md has been scaled down keeps into account deleted machines',
      replicas: 3,
      newMS: ms('ms3', 2),
      oldMSs: [ms('ms1', 1, 0), ms('ms2', 2)],
      given: {},
      expect: { ms1: 0, ms2: 1 },
      notes: { ms1: ['scale down to align to existing Machines'], ms2: ['scale down to align MachineSet spec.replicas to MachineDeployment spec.replicas'] },
    },
    {
      name: 'aligns to existing machines and then removes the surplus from the same set',
      replicas: 2,
      newMS: ms('ms3', 0),
      oldMSs: [ms('ms1', 5, 4)],
      given: {},
      expect: { ms1: 2 },
      notes: { ms1: ['scale down to align to existing Machines', 'scale down to align MachineSet spec.replicas to MachineDeployment spec.replicas'] },
    },
  ])('$name', ({ replicas, newMS, oldMSs, given, expect: want, notes: wantNotes }) => {
    // Prepare
    const s = state({ strategy: 'OnDelete', replicas, newMS, oldMSs, intents: given });
    // Act
    reconcileOldMachineSetsOnDelete(s);
    // Assess
    expect(intents(s)).toEqual(want);
    expect(notes(s)).toEqual(wantNotes);
  });
});

describe('rollout order and bookkeeping', () => {
  /** A set whose deletion order removes `order` (true = available) in that order. */
  function exact(name: string, replicas: number, order: boolean[]): MachineSetReplicas {
    return {
      ...ms(name, replicas, order.length, order.filter(Boolean).length),
      availableRemovedAt: (r) => order.slice(0, Math.max(order.length - r, 0)).filter(Boolean).length,
    };
  }
  /** A state built by hand, old sets in the order given (newRolloutState sorts them). */
  const unsorted = (o: {
    strategy?: StrategyType;
    replicas: number;
    maxSurge?: number;
    maxUnavailable?: number;
    newMS: MachineSetReplicas;
    oldMSs: MachineSetReplicas[];
  }): RolloutState => ({
    strategy: o.strategy ?? 'RollingUpdate',
    replicas: o.replicas,
    maxSurge: o.maxSurge ?? 0,
    maxUnavailable: o.maxUnavailable ?? 0,
    newMS: o.newMS,
    oldMSs: o.oldMSs,
    intents: new Map(),
    notes: new Map(),
  });

  it('a note said twice for the same set is kept once', () => {
    // Prepare
    const s = state({ replicas: 1, newMS: ms('ms2', 1) });
    // Act
    addNote(s, s.newMS, 'scale up');
    addNote(s, s.newMS, 'scale up');
    addNote(s, s.newMS, 'then more');
    // Assess
    expect(notes(s)).toEqual({ ms2: ['scale up', 'then more'] });
  });

  it('the deadlock breaker scales the oldest stuck set down, whatever order the sets come in', () => {
    // Prepare: both old sets have an unavailable machine; the newer one is listed first.
    const s = state({ replicas: 5, maxSurge: 1, newMS: ms('ms3', 3), oldMSs: [ms('ms2', 1, 1, 0), ms('ms1', 1, 1, 0)] });
    // Act
    reconcileDeadlockBreaker(s);
    // Assess
    expect(intents(s)).toEqual({ ms1: 0 });
  });

  it('RollingUpdate scales the oldest old set down first, whatever order the sets come in', () => {
    // Prepare: one replica may go (replicas 3, maxUnavailable 1, all available).
    const s = unsorted({ replicas: 3, maxUnavailable: 1, newMS: ms('ms3', 0), oldMSs: [ms('ms2', 1), ms('ms1', 2)] });
    // Act
    reconcileOldMachineSetsRollingUpdate(s);
    // Assess
    expect(intents(s)).toEqual({ ms1: 1 });
  });

  it('OnDelete takes a scale-down from the oldest old set first, whatever order the sets come in', () => {
    // Prepare
    const s = unsorted({ strategy: 'OnDelete', replicas: 2, newMS: ms('ms3', 0), oldMSs: [ms('ms2', 1), ms('ms1', 2)] });
    // Act
    reconcileOldMachineSetsOnDelete(s);
    // Assess
    expect(intents(s)).toEqual({ ms1: 1 });
  });

  it.each([
    { name: 'the new set only', newMS: exact('ms2', 1, [true]), oldMSs: [ms('ms1', 3, 3, 2)] },
    { name: 'the old set only', newMS: ms('ms2', 1), oldMSs: [exact('ms1', 3, [false, true, true])] },
    { name: 'one old set of two', newMS: exact('ms2', 1, [true]), oldMSs: [ms('ms0', 0), exact('ms1', 3, [false, true, true])] },
  ])("with exact counts from $name, Cluster API's worst case applies", ({ newMS, oldMSs }) => {
    // Prepare: as in 'scales an old set down when its deletion order removes the unavailable machine first'.
    const s = state({ replicas: 3, maxSurge: 1, newMS, oldMSs });
    // Act
    reconcileOldMachineSetsRollingUpdate(s);
    // Assess
    expect(intents(s)).toEqual({});
  });

  it('machines a set is still creating are no scale-down under way: nothing goes while the new set is short', () => {
    // Prepare: the new set has 2 replicas and no machine yet; the old set has 2 unavailable machines, deleted first.
    const s = state({ replicas: 4, maxSurge: 2, newMS: exact('ms2', 2, []), oldMSs: [exact('ms1', 4, [false, false, true, true])] });
    // Act
    reconcileOldMachineSetsRollingUpdate(s);
    // Assess
    expect(intents(s)).toEqual({});
  });

  it('a scale-down under way counts against the scale-down budget: one old set goes down by one, not two sets', () => {
    // Prepare: replicas 3, maxUnavailable 0. ms1 has 2 replicas and 3 machines (its unavailable machine is going).
    const s = state({
      replicas: 3,
      maxSurge: 1,
      newMS: exact('ms3', 1, [true]),
      oldMSs: [exact('ms1', 2, [false, true, true]), exact('ms2', 2, [true, true])],
    });
    // Act
    reconcileOldMachineSetsRollingUpdate(s);
    // Assess
    expect(intents(s)).toEqual({ ms1: 1 });
  });

  it('worst case: replicas without machines go first and never take more than the scale-down allows', () => {
    // Prepare: replicas 4, maxUnavailable 0; ms1 has 3 replicas but 1 machine; 3 of 4 required machines are available.
    const s = state({ replicas: 4, maxSurge: 1, newMS: ms('ms2', 2), oldMSs: [ms('ms1', 3, 1, 1)] });
    // Act
    reconcileOldMachineSetsRollingUpdate(s);
    // Assess
    expect(intents(s)).toEqual({ ms1: 2 });
  });
});
