/**
 * What the world says about one Machine: its instance and its node. The node lookup follows cluster-api
 * core/reconcilers/machine/machine_controller_noderef.go (by providerID first, the nodeRef name otherwise).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../../functions/api/machine.js';
import {
  etcdMemberNameOf,
  instanceOf,
  isNodeReady,
  nodeCondition,
  nodeOf,
  ObservedLookup,
  ownInstanceOf,
  ownInstancesOf,
  ownNodeOf,
} from '../../../../functions/core/machine/facts.js';
import type { InstanceFact, NodeFact, Observed } from '../../../../functions/core/observed.js';
import { machine } from '../machineset/fixtures.js';

const instance = (id: string, opts: Partial<InstanceFact> = {}): InstanceFact => ({
  machineUid: 'm1-uid',
  instanceId: id,
  providerID: `sim:///a/${id}`,
  state: 'running',
  ...opts,
});
const readyNode = (name: string, providerID?: string): NodeFact => ({
  name,
  ...(providerID ? { providerID } : {}),
  conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-03-01T00:00:00Z' }],
});
const withoutUid = (m: Machine): Machine => {
  const { uid: _uid, ...metadata } = m.metadata;
  return { ...m, metadata };
};

describe('instanceOf', () => {
  it('finds the instance by its machine-uid tag, or by the spec.providerID the machine was given', () => {
    // Prepare
    const byProviderID = { ...withoutUid(machine('m1')), spec: { ...machine('m1').spec, providerID: 'sim:///a/i-2' } };
    const observed = { instances: [instance('i-1'), instance('i-2', { machineUid: 'other-uid' })] };
    // Act & Assess
    expect(instanceOf(machine('m1'), observed)?.instanceId).toBe('i-1');
    expect(instanceOf(byProviderID, observed)?.instanceId).toBe('i-2');
  });

  it.each([
    {
      name: 'the live one wins over a terminated newer one',
      list: [instance('i-new', { state: 'terminated', launchTime: '2026-03-01T11:00:00Z' }), instance('i-live', { launchTime: '2026-03-01T10:00:00Z' })],
      want: 'i-live',
    },
    {
      name: 'the live one wins, listed first or not',
      list: [instance('i-live', { launchTime: '2026-03-01T10:00:00Z' }), instance('i-new', { state: 'shutting-down', launchTime: '2026-03-01T11:00:00Z' })],
      want: 'i-live',
    },
    {
      name: 'of two live ones, the newest',
      list: [instance('i-old', { launchTime: '2026-03-01T10:00:00Z' }), instance('i-new', { launchTime: '2026-03-01T11:00:00Z' })],
      want: 'i-new',
    },
    {
      name: 'of two live ones, one with a launch time over one without',
      list: [instance('i-unknown'), instance('i-dated', { launchTime: '2026-03-01T11:00:00Z' })],
      want: 'i-dated',
    },
    {
      name: 'of two live ones, one with a launch time over one without, in either order',
      list: [instance('i-dated', { launchTime: '2026-03-01T11:00:00Z' }), instance('i-unknown')],
      want: 'i-dated',
    },
  ])('should a retried launch have left two instances: $name', ({ list, want }) => {
    // Act & Assess
    expect(instanceOf(machine('m1'), { instances: list })?.instanceId).toBe(want);
  });
});

describe('ownInstancesOf and ownNodeOf', () => {
  it('a machine without uid owns no instance', () => {
    // Act & Assess
    expect(ownInstancesOf(withoutUid(machine('m1')), { instances: [instance('i-1')] })).toEqual([]);
  });

  it('finds the node of its own instance by providerID, and knows nothing when the nodes could not be read', () => {
    // Prepare
    const observed = { instances: [instance('i-1')], nodes: [readyNode('n0'), readyNode('n1', 'sim:///a/i-1')] };
    // Act & Assess
    expect(ownNodeOf(machine('m1'), observed)).toEqual({ known: true, node: observed.nodes[1] });
    expect(ownNodeOf(machine('m1'), { instances: [instance('i-1')] })).toEqual({ known: false });
    expect(ownNodeOf(machine('m1'), { instances: [], nodes: observed.nodes })).toEqual({ known: true });
  });
});

describe('nodeOf', () => {
  it("prefers the machine's spec.providerID to its instance's", () => {
    // Prepare
    const m = { ...machine('m1', { node: undefined }), spec: { ...machine('m1').spec, providerID: 'sim:///a/i-1' } };
    const nodes = [readyNode('n2', 'sim:///a/i-2'), readyNode('n1', 'sim:///a/i-1')];
    // Act & Assess
    expect(nodeOf(m, { instances: [], nodes }, instance('i-2'))).toEqual({ known: true, node: nodes[1] });
  });

  it('without a providerID, finds the node its nodeRef names, never a node without providerID by chance', () => {
    // Prepare
    const m = machine('m1', { node: 'n1' });
    const nodes = [readyNode('n0'), readyNode('n1')];
    // Act & Assess
    expect(nodeOf(m, { instances: [], nodes })).toEqual({ known: true, node: nodes[1] });
    expect(nodeOf(machine('m2', { node: undefined }), { instances: [], nodes })).toEqual({ known: true });
  });
});

describe('node conditions', () => {
  it('reads the condition of the type asked for, whatever comes first', () => {
    // Prepare
    const node: NodeFact = {
      name: 'n1',
      conditions: [
        { type: 'MemoryPressure', status: 'False', lastTransitionTime: '2026-03-01T00:00:00Z' },
        { type: 'Ready', status: 'True', lastTransitionTime: '2026-03-01T00:00:00Z' },
      ],
    };
    // Act & Assess
    expect(nodeCondition(node, 'Ready')?.status).toBe('True');
    expect(isNodeReady(node)).toBe(true);
    expect(isNodeReady({ ...node, conditions: [node.conditions[0]!] })).toBe(false);
  });
});

describe('ObservedLookup against the searches it replaces', () => {
  // Few uids, providerIDs and names, so that instances and nodes share them (a retried launch, a reused name) and the
  // order among equals matters.
  const uid = fc.constantFrom('m1-uid', 'm2-uid', 'm3-uid');
  const providerID = fc.constantFrom('sim:///a/1', 'sim:///a/2', 'sim:///a/3');
  const nodeName = fc.constantFrom('n1', 'n2', 'm1-node', 'm2-node');
  const instances = fc.array(
    fc.record({
      machineUid: uid,
      instanceId: fc.constantFrom('i-1', 'i-2', 'i-3', 'i-4'),
      providerID,
      state: fc.constantFrom<InstanceFact['state']>('running', 'pending', 'terminated', 'shutting-down'),
      launchTime: fc.constantFrom(undefined, '2026-03-01T00:00:00Z', '2026-03-01T01:00:00Z'),
    }),
    { maxLength: 8 },
  );
  const nodes = fc.option(fc.array(fc.record({ name: nodeName, providerID: fc.option(providerID, { nil: undefined }) }), { maxLength: 8 }), { nil: undefined });
  const machines = fc.array(
    fc.record({
      name: fc.constantFrom('m1', 'm2', 'm4'),
      uid: fc.boolean(),
      providerID: fc.option(providerID, { nil: undefined }),
      nodeRef: fc.option(nodeName, { nil: undefined }),
    }),
    { minLength: 1, maxLength: 6 },
  );

  it('finds the same instances and nodes, in the same order, for every machine', () => {
    fc.assert(
      fc.property(instances, nodes, machines, (is, ns, ms) => {
        // Prepare
        const observed: Observed = {
          instances: is.map(({ launchTime, ...i }) => ({ ...i, ...(launchTime ? { launchTime } : {}) })),
          ...(ns ? { nodes: ns.map((n) => ({ ...readyNode(n.name, n.providerID) })) } : {}),
        };
        const lookup = new ObservedLookup(observed);
        for (const t of ms) {
          const base = machine(t.name, ...(t.nodeRef ? [{ node: t.nodeRef }] : [{ node: undefined }]));
          const m0 = t.uid ? base : withoutUid(base);
          const m = t.providerID ? { ...m0, spec: { ...m0.spec, providerID: t.providerID } } : m0;
          // Act & Assess
          expect(instanceOf(m, observed, lookup)).toBe(instanceOf(m, observed));
          expect(ownInstancesOf(m, observed, lookup)).toEqual(ownInstancesOf(m, observed));
          expect(ownInstanceOf(m, observed, lookup)).toBe(ownInstanceOf(m, observed));
          expect(ownNodeOf(m, observed, lookup)).toEqual(ownNodeOf(m, observed));
          expect(nodeOf(m, observed, instanceOf(m, observed), lookup)).toEqual(nodeOf(m, observed));
          expect(etcdMemberNameOf(m, observed, lookup)).toBe(etcdMemberNameOf(m, observed));
        }
      }),
      { numRuns: 500 },
    );
  });
});
