/** One guarded write per object and plan: a later write of an object already written carries no resourceVersion. */
import { describe, expect, it } from 'vitest';
import { chainWrites } from '../../../../functions/core/machinedeployment/writes.js';
import type { Write } from '../../../../functions/core/plan.js';
import { machineDeployment, machineSet } from '../machineset/fixtures.js';

const rv = (writes: Write[]) => writes.map((w) => ('object' in w ? w.object.metadata.resourceVersion : undefined));

describe('chainWrites', () => {
  it('an Update after an UpdateStatus of the same object goes without resourceVersion', () => {
    const md = machineDeployment();
    expect(
      rv(
        chainWrites([
          { type: 'UpdateStatus', object: md },
          { type: 'Update', object: md },
        ]),
      ),
    ).toEqual(['1', undefined]);
  });

  it('an Update after the removal of a finalizer of the same object goes without resourceVersion', () => {
    const md = machineDeployment();
    const writes: Write[] = [
      { type: 'RemoveFinalizer', ref: { kind: 'MachineDeployment', namespace: 'default', name: 'md', uid: 'md-uid' }, finalizer: 'x' },
      { type: 'Update', object: md },
    ];
    expect(rv(chainWrites(writes))).toEqual([undefined, undefined]);
  });

  it('a Delete after an Update of the same object is left as it is', () => {
    const ms = machineSet();
    const writes: Write[] = [
      { type: 'Update', object: ms },
      { type: 'Delete', ref: { kind: 'MachineSet', namespace: 'default', name: 'ms1', uid: 'ms1-uid' }, reason: 'gone' },
    ];
    expect(chainWrites(writes)).toEqual(writes);
  });

  it('keeps every write, in order, around the one it changes, and the writes of other kinds as they are', () => {
    // Prepare
    const md = machineDeployment();
    const ms = machineSet();
    const del = (name: string): Write => ({ type: 'Delete', ref: { kind: 'Machine', namespace: 'default', name, uid: `${name}-uid` }, reason: 'scale down' });
    const writes: Write[] = [
      del('m1'),
      { type: 'UpdateStatus', object: md },
      del('m2'),
      { type: 'Update', object: md },
      del('m3'),
      { type: 'Update', object: ms },
    ];
    // Act
    const chained = chainWrites(writes);
    // Assess
    expect(chained.map((w) => w.type)).toEqual(writes.map((w) => w.type));
    expect(rv(chained)).toEqual([undefined, '1', undefined, undefined, undefined, ms.metadata.resourceVersion]);
    for (const i of [0, 1, 2, 4, 5]) expect(chained[i]).toBe(writes[i]);
  });

  it('owned: changes the writes in the array given, to the same writes a copy gets', () => {
    // Prepare
    const md = machineDeployment();
    const del: Write = { type: 'Delete', ref: { kind: 'Machine', namespace: 'default', name: 'm1', uid: 'm1-uid' }, reason: 'scale down' };
    const writes = (): Write[] => [{ type: 'UpdateStatus', object: md }, del, { type: 'Update', object: md }];
    const given = writes();
    // Act
    const chained = chainWrites(given, true);
    // Assess
    expect(chained).toBe(given);
    expect(chained).toEqual(chainWrites(writes()));
    expect(rv(given)).toEqual(['1', undefined, undefined]);
  });
});
