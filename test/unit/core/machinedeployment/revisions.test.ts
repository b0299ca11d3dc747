/** Revision numbers (cluster-api mdutil TestComputeRevisionAnnotations, Kubernetes LastRevision). */
import { describe, expect, it } from 'vitest';
import type { MachineSet } from '../../../../functions/api/machine-set.js';
import { newRevisionAnnotations, previousRevision, revisionOf } from '../../../../functions/core/machinedeployment/revisions.js';
import { machineSet } from '../machineset/fixtures.js';

const REV = 'clusterless.dev/revision';
const HISTORY = 'clusterless.dev/revision-history';

function withRevision(revision: string, history = ''): MachineSet {
  return machineSet({ name: `ms-${revision}`, annotations: { [REV]: revision, ...(history ? { [HISTORY]: history } : {}) } });
}

describe('newRevisionAnnotations (TestComputeRevisionAnnotations)', () => {
  it.each([
    { name: 'a new newMS - oldMSs do not exist', oldMSs: [], ms: undefined, want: { [REV]: '1' }, revision: 1 },
    { name: 'a new newMS - old MSs exist', oldMSs: [withRevision('1')], ms: undefined, want: { [REV]: '2' }, revision: 2 },
    { name: 'an existing newMS - oldMSs do not exist', oldMSs: [], ms: withRevision('1'), want: { [REV]: '1' }, revision: 1 },
    {
      name: 'an existing newMS - old MSs exist - update required',
      oldMSs: [withRevision('1'), withRevision('2')],
      ms: withRevision('1'),
      want: { [REV]: '3', [HISTORY]: '1' },
      revision: 3,
    },
    {
      name: 'an existing newMS - old MSs exist - no update required',
      oldMSs: [withRevision('1'), withRevision('2')],
      ms: withRevision('4'),
      want: { [REV]: '4' },
      revision: 4,
    },
    {
      name: 'an existing newMS with revision history - old MSs exist - update required',
      oldMSs: [withRevision('3'), withRevision('4')],
      ms: withRevision('2', '1'),
      want: { [REV]: '5', [HISTORY]: '1,2' },
      revision: 5,
    },
  ])('$name', ({ oldMSs, ms, want, revision }) => {
    // Act
    const r = newRevisionAnnotations(ms, oldMSs);
    // Assess
    expect(r.annotations).toEqual(want);
    expect(r.revision).toBe(revision);
  });
});

describe('previousRevision (LastRevision)', () => {
  it.each([
    { name: 'none', sets: [], expected: 0 },
    { name: 'only one', sets: [withRevision('3')], expected: 0 },
    { name: 'the second highest, in any order', sets: [withRevision('2'), withRevision('7'), withRevision('5')], expected: 5 },
  ])('$name', ({ sets, expected }) => {
    // Act / Assess
    expect(previousRevision(sets)).toBe(expected);
  });
});

describe('revisionOf', () => {
  it.each([
    { name: 'a number of several digits', value: '12', expected: 12 },
    { name: 'a prefix', value: 'x3', expected: 0 },
    { name: 'a suffix', value: '3x', expected: 0 },
    { name: 'no number', value: 'three', expected: 0 },
  ])('reads $name as $expected', ({ value, expected }) => {
    expect(revisionOf(withRevision(value))).toBe(expected);
  });

  it('a set without annotations has revision 0', () => {
    expect(revisionOf(machineSet())).toBe(0);
  });
});

describe('newRevisionAnnotations, history', () => {
  it('a set without annotations becomes current with the next revision and no history', () => {
    expect(newRevisionAnnotations(machineSet(), [withRevision('2')]).annotations).toStrictEqual({ [REV]: '3' });
  });

  it('a current set whose number does not change keeps its history as it is', () => {
    expect(newRevisionAnnotations(withRevision('4', '1,2'), [withRevision('3')]).annotations).toStrictEqual({ [REV]: '4', [HISTORY]: '1,2' });
  });

  it('a current set without history whose number does not change gets none', () => {
    expect(newRevisionAnnotations(withRevision('4'), [withRevision('3')]).annotations).toStrictEqual({ [REV]: '4' });
  });
});

describe('previousRevision, more', () => {
  it.each([
    { name: 'two sets, the newest last', sets: ['3', '5'], expected: 3 },
    { name: 'two sets sharing the newest number: the one below it', sets: ['3', '5', '5'], expected: 3 },
    { name: 'a lower one after the second highest does not replace it', sets: ['7', '5', '2'], expected: 5 },
  ])('$name', ({ sets, expected }) => {
    expect(previousRevision(sets.map((r) => withRevision(r)))).toBe(expected);
  });
});
