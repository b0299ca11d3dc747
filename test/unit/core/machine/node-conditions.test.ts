/**
 * A Machine's NodeReady and NodeHealthy conditions, as Cluster API's machine controller sets them
 * (internal/controllers/machine/machine_controller_status.go, setNodeHealthyAndReadyConditions, and the cases
 * of machine_controller_status_test.go, in this project's terms).
 */
import { describe, expect, it } from 'vitest';
import { nodeConditions } from '../../../../functions/core/machine/node-conditions.js';
import type { NodeFact } from '../../../../functions/core/observed.js';
import { machine } from '../cluster/fixtures.js';

const since = '2026-01-01T00:00:00Z';
const nodeWith = (conditions: NodeFact['conditions']): NodeFact => ({ name: 'node-m', conditions });
const pressuresFalse: NodeFact['conditions'] = [
  { type: 'MemoryPressure', status: 'False', lastTransitionTime: since },
  { type: 'DiskPressure', status: 'False', lastTransitionTime: since },
  { type: 'PIDPressure', status: 'False', lastTransitionTime: since },
];
const byType = (cs: ReturnType<typeof nodeConditions>) => Object.fromEntries(cs.map(({ type, ...rest }) => [type, rest]));

describe('nodeConditions', () => {
  it('waits for the control plane before any node can exist', () => {
    // Act & Assess
    expect(
      byType(nodeConditions({ machine: machine('m', { node: false }), lookup: { known: false }, controlPlaneInitialized: false, deleting: false })),
    ).toEqual({
      NodeReady: { status: 'Unknown', reason: 'NodeInspectionFailed', message: 'Waiting for the cluster control plane to be initialized' },
      NodeHealthy: { status: 'Unknown', reason: 'NodeInspectionFailed', message: 'Waiting for the cluster control plane to be initialized' },
    });
  });

  it('says the node does not exist for a deleting machine that never had one', () => {
    // Act & Assess
    expect(byType(nodeConditions({ machine: machine('m', { node: false }), lookup: { known: true }, controlPlaneInitialized: true, deleting: true }))).toEqual({
      NodeReady: { status: 'Unknown', reason: 'NodeDoesNotExist', message: 'Node does not exist' },
      NodeHealthy: { status: 'Unknown', reason: 'NodeDoesNotExist', message: 'Node does not exist' },
    });
  });

  it('NodeReady: Unknown while the node has not reported Ready', () => {
    // Act
    const cs = byType(
      nodeConditions({ machine: machine('m'), lookup: { known: true, node: nodeWith(pressuresFalse) }, controlPlaneInitialized: true, deleting: false }),
    );
    // Assess
    expect(cs.NodeReady).toEqual({ status: 'Unknown', reason: 'NodeReadyUnknown', message: '* Node.Ready: Condition not yet reported' });
    expect(cs.NodeHealthy).toEqual({ status: 'Unknown', reason: 'NodeHealthUnknown', message: '* Node.Ready: Condition not yet reported' });
  });

  it('NodeReady mirrors a NotReady node with its message and transition time', () => {
    // Prepare
    const node = nodeWith([{ type: 'Ready', status: 'False', lastTransitionTime: since, message: 'kubelet stopped posting node status' }, ...pressuresFalse]);
    // Act
    const cs = byType(nodeConditions({ machine: machine('m'), lookup: { known: true, node }, controlPlaneInitialized: true, deleting: false }));
    // Assess
    expect(cs.NodeReady).toEqual({
      status: 'False',
      reason: 'NodeNotReady',
      message: '* Node.Ready: kubelet stopped posting node status',
      lastTransitionTime: since,
    });
    expect(cs.NodeHealthy).toEqual({ status: 'False', reason: 'NodeNotHealthy', message: '* Node.Ready: kubelet stopped posting node status' });
  });

  it('NodeReady carries no message while the node is Ready', () => {
    // Prepare
    const node = nodeWith([{ type: 'Ready', status: 'True', lastTransitionTime: since, message: 'kubelet is posting ready status' }, ...pressuresFalse]);
    // Act
    const cs = byType(nodeConditions({ machine: machine('m'), lookup: { known: true, node }, controlPlaneInitialized: true, deleting: false }));
    // Assess
    expect(cs).toEqual({
      NodeReady: { status: 'True', reason: 'NodeReady', lastTransitionTime: since },
      NodeHealthy: { status: 'True', reason: 'NodeHealthy' },
    });
  });

  it('NodeHealthy: Unknown when a condition is Unknown and none is bad; False as soon as one is', () => {
    // Prepare
    const unknownReady = nodeWith([{ type: 'Ready', status: 'Unknown', lastTransitionTime: since }, ...pressuresFalse]);
    const alsoPressure = nodeWith([
      { type: 'Ready', status: 'Unknown', lastTransitionTime: since },
      { type: 'MemoryPressure', status: 'True', lastTransitionTime: since, message: 'memory is low' },
      ...pressuresFalse.slice(1),
    ]);
    // Act
    const unknown = byType(
      nodeConditions({ machine: machine('m'), lookup: { known: true, node: unknownReady }, controlPlaneInitialized: true, deleting: false }),
    );
    const bad = byType(nodeConditions({ machine: machine('m'), lookup: { known: true, node: alsoPressure }, controlPlaneInitialized: true, deleting: false }));
    // Assess
    expect(unknown.NodeHealthy).toEqual({ status: 'Unknown', reason: 'NodeHealthUnknown', message: '* Node.Ready: Condition is Unknown' });
    expect(bad.NodeHealthy).toEqual({
      status: 'False',
      reason: 'NodeNotHealthy',
      message: '* Node.Ready: Condition is Unknown\n* Node.MemoryPressure: memory is low',
    });
  });
});

describe('nodeConditions, when the node is not there', () => {
  const recorded = (types: string[]) => {
    const m = machine('m');
    m.status = { ...m.status, conditions: types.map((type) => ({ type, status: 'True' as const, reason: type, lastTransitionTime: since })) };
    return m;
  };
  const down = {
    NodeReady: { status: 'Unknown', reason: 'NodeConnectionDown', message: 'The workload cluster could not be reached' },
    NodeHealthy: { status: 'Unknown', reason: 'NodeConnectionDown', message: 'The workload cluster could not be reached' },
  };
  const unreachable = (m: ReturnType<typeof machine>) =>
    byType(nodeConditions({ machine: m, lookup: { known: false }, controlPlaneInitialized: true, deleting: false }));

  it('keeps the recorded node conditions while the workload cluster cannot be reached, or says it cannot when there are none', () => {
    const bare = machine('m');
    delete bare.status;
    expect(unreachable(recorded(['NodeReady', 'NodeHealthy']))).toEqual({});
    expect(unreachable(recorded(['NodeReady']))).toEqual(down);
    expect(unreachable(recorded(['NodeHealthy']))).toEqual(down);
    expect(unreachable(bare)).toEqual(down);
  });

  it('says the node was deleted, and whether while the machine still exists', () => {
    const of = (deleting: boolean) => byType(nodeConditions({ machine: machine('m'), lookup: { known: true }, controlPlaneInitialized: true, deleting }));
    expect(of(false).NodeReady).toEqual({ status: 'False', reason: 'NodeDeleted', message: 'Node node-m has been deleted while the Machine still exists' });
    expect(of(true).NodeHealthy).toEqual({ status: 'False', reason: 'NodeDeleted', message: 'Node node-m has been deleted' });
  });

  it('waits for the node of the instance by its providerID', () => {
    const cs = byType(
      nodeConditions({
        machine: machine('m', { node: false }),
        lookup: { known: true },
        providerID: 'sim:///a/i-1',
        controlPlaneInitialized: true,
        deleting: false,
      }),
    );
    expect(cs.NodeReady).toEqual({
      status: 'Unknown',
      reason: 'NodeInspectionFailed',
      message: 'Waiting for a Node with spec.providerID sim:///a/i-1 to exist',
    });
  });

  it('NodeReady Unknown mirrors as NodeReadyUnknown; NodeHealthy lists every condition not healthy on its own line', () => {
    const node = nodeWith([
      { type: 'Ready', status: 'Unknown', lastTransitionTime: since },
      { type: 'MemoryPressure', status: 'Unknown', lastTransitionTime: since },
      ...pressuresFalse.slice(1),
    ]);
    const cs = byType(nodeConditions({ machine: machine('m'), lookup: { known: true, node }, controlPlaneInitialized: true, deleting: false }));
    expect(cs.NodeReady).toMatchObject({ status: 'Unknown', reason: 'NodeReadyUnknown' });
    expect(cs.NodeHealthy).toEqual({
      status: 'Unknown',
      reason: 'NodeHealthUnknown',
      message: '* Node.Ready: Condition is Unknown\n* Node.MemoryPressure: Condition is Unknown',
    });
  });
});
