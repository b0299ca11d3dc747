import { describe, expect, it } from 'vitest';
import type { ApiObject } from '../../../functions/api/kind.js';
import { claimItemBytes, objectItemBytes, queryCost, readUnits, writeUnits } from '../../../functions/metering/index.js';

describe('DynamoDB request units (on-demand)', () => {
  it.each([
    { name: 'a tiny write is one unit', bytes: 10, units: 1 },
    { name: '1 KB is one unit', bytes: 1024, units: 1 },
    { name: 'one byte more is two', bytes: 1025, units: 2 },
    { name: '2.5 KB is three', bytes: 2560, units: 3 },
  ])('writes: $name', ({ bytes, units }) => {
    expect(writeUnits(bytes)).toBe(units);
  });

  it.each([
    { name: '4 KB strongly consistent is one unit', bytes: 4096, consistent: true, units: 1 },
    { name: 'one byte more is two', bytes: 4097, consistent: true, units: 2 },
    { name: 'eventually consistent is half', bytes: 4097, consistent: false, units: 1 },
    { name: 'an empty read still costs its minimum', bytes: 0, consistent: false, units: 0.5 },
  ])('reads: $name', ({ bytes, consistent, units }) => {
    expect(readUnits(bytes, consistent)).toBe(units);
  });

  it('prices a Query by the total size it returns, not per item', () => {
    // 14 items of 300 bytes = 4,200 bytes: two 4 KB units, not fourteen
    expect(queryCost(Array(14).fill(300), true)).toEqual({ readUnits: 2, pages: 1 });
    expect(queryCost(Array(14).fill(300), false)).toEqual({ readUnits: 1, pages: 1 });
    expect(queryCost([], true)).toEqual({ readUnits: 1, pages: 1 });
  });

  it('rounds each 1 MB page up on its own', () => {
    // Three items of 600 KB do not fit two to a page: three pages of 150 units each
    expect(queryCost([600 * 1024, 600 * 1024, 600 * 1024], true)).toEqual({ readUnits: 450, pages: 3 });
  });
});

describe('item sizes of the store', () => {
  it("an object's item is its attribute names and values, the JSON included, as DynamoDbStore writes it", () => {
    const obj = {
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'c1', namespace: 'default', uid: 'u-1', resourceVersion: '42' },
      spec: {},
    } as unknown as ApiObject;
    const json = JSON.stringify(obj);
    // pk=default#c1 (2+10), sk=Cluster#c1 (2+10), gsi1pk=Cluster (6+7), gsi1sk=default#c1 (6+10), rv=42 (2+2), uid=u-1 (3+3), obj (3+json)
    expect(objectItemBytes(obj)).toBe(12 + 12 + 13 + 16 + 4 + 6 + 3 + json.length);
  });

  it('a name claim stays under one write unit', () => {
    expect(writeUnits(claimItemBytes('MachineDeployment', 'team-a', 'a'.repeat(63), `team-a#${'b'.repeat(63)}`))).toBe(1);
  });
});
