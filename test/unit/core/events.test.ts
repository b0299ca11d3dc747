/**
 * The events a plan's applied writes tell (core/events.ts): a MachineSet's machines made and deleted, a
 * MachineDeployment's MachineSets made and scaled, a Machine marked unhealthy; nothing for other writes.
 */
import { describe, expect, it } from 'vitest';
import type { ApiObject } from '../../../functions/api/kind.js';
import { eventObjectKey, eventsOfWrite } from '../../../functions/core/events.js';

const API = 'clusterless.dev/v1alpha1';
const owned = (kind: string, name: string, owner?: { kind: string; name: string; uid: string }, extra: Partial<ApiObject> = {}): ApiObject => ({
  apiVersion: API,
  kind,
  metadata: {
    name,
    namespace: 'team-a',
    uid: `${name}-uid`,
    ...(owner ? { ownerReferences: [{ apiVersion: API, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true }] } : {}),
  },
  ...extra,
});
const ms = { kind: 'MachineSet', name: 'md-abc', uid: 'ms-uid' };
const md = { kind: 'MachineDeployment', name: 'md', uid: 'md-uid' };
const stored = (...objects: ApiObject[]) => new Map(objects.map((o): [string, ApiObject] => [eventObjectKey(o.kind, o.metadata.name), o]));
const marked = (status: 'True' | 'False', reason: string) => ({
  conditions: [{ type: 'OwnerRemediated', status, reason, message: 'Node n1 Ready=Unknown for more than 60s', lastTransitionTime: '2026-03-01T12:00:00Z' }],
});

describe('eventsOfWrite', () => {
  it('a Machine created by a MachineSet: SuccessfulCreate on the MachineSet', () => {
    expect(eventsOfWrite({ type: 'Create', object: owned('Machine', 'md-abc-x1', ms) }, stored())).toEqual([
      {
        regarding: { kind: 'MachineSet', namespace: 'team-a', name: 'md-abc', uid: 'ms-uid', apiVersion: API },
        type: 'Normal',
        reason: 'SuccessfulCreate',
        action: 'Create',
        note: 'Created Machine "md-abc-x1"',
      },
    ]);
  });

  it('a MachineSet created by a MachineDeployment: SuccessfulCreate on the deployment', () => {
    const [e] = eventsOfWrite({ type: 'Create', object: owned('MachineSet', 'md-abc', md) }, stored());
    expect(e).toMatchObject({ regarding: { kind: 'MachineDeployment', name: 'md' }, reason: 'SuccessfulCreate', note: 'Created MachineSet "md-abc"' });
  });

  it("a Machine deleted: SuccessfulDelete on its owner, with the planner's reason", () => {
    const machine = owned('Machine', 'md-abc-x1', ms);
    const [e] = eventsOfWrite({ type: 'Delete', ref: { kind: 'Machine', namespace: 'team-a', name: 'md-abc-x1' }, reason: 'scale down' }, stored(machine));
    expect(e).toMatchObject({ regarding: { kind: 'MachineSet', name: 'md-abc' }, reason: 'SuccessfulDelete', note: 'Deleted Machine "md-abc-x1": scale down' });
  });

  it.each([
    [2, 3, 'Scaled up MachineSet md-abc from 2 to 3'],
    [3, 1, 'Scaled down MachineSet md-abc from 3 to 1'],
  ])('a MachineSet scaled from %d to %d by its deployment: ScalingMachineSet', (from, to, note) => {
    const old = owned('MachineSet', 'md-abc', md, { spec: { replicas: from } });
    const [e] = eventsOfWrite({ type: 'Update', object: owned('MachineSet', 'md-abc', md, { spec: { replicas: to } }) }, stored(old));
    expect(e).toMatchObject({ regarding: { kind: 'MachineDeployment', name: 'md' }, reason: 'ScalingMachineSet', action: 'Scale', note });
  });

  it('a MachineSet update that keeps its replicas tells nothing', () => {
    const old = owned('MachineSet', 'md-abc', md, { spec: { replicas: 2 } });
    expect(eventsOfWrite({ type: 'Update', object: owned('MachineSet', 'md-abc', md, { spec: { replicas: 2 } }) }, stored(old))).toEqual([]);
  });

  it('a Machine newly marked for remediation: MachineMarkedUnhealthy on the Machine, once', () => {
    const now = owned('Machine', 'md-abc-x1', ms, { status: marked('False', 'WaitingForRemediation') });
    const [e] = eventsOfWrite({ type: 'UpdateStatus', object: now }, stored(owned('Machine', 'md-abc-x1', ms)));
    expect(e).toMatchObject({
      regarding: { kind: 'Machine', name: 'md-abc-x1', uid: 'md-abc-x1-uid' },
      reason: 'MachineMarkedUnhealthy',
      note: 'Machine team-a/md-abc-x1 has been marked as unhealthy: Node n1 Ready=Unknown for more than 60s',
    });
    // Written again while marked (another status change): no second event.
    expect(eventsOfWrite({ type: 'UpdateStatus', object: now }, stored(now))).toEqual([]);
  });

  it('a deferred remediation is not a mark', () => {
    const now = owned('Machine', 'md-abc-x1', ms, { status: marked('False', 'RemediationDeferred') });
    expect(eventsOfWrite({ type: 'UpdateStatus', object: now }, stored(owned('Machine', 'md-abc-x1', ms)))).toEqual([]);
  });

  it('objects without a controller, and other writes, tell nothing', () => {
    expect(eventsOfWrite({ type: 'Create', object: owned('Machine', 'loose') }, stored())).toEqual([]);
    expect(eventsOfWrite({ type: 'Create', object: owned('MachineHealthCheck', 'mhc', md) }, stored())).toEqual([]);
    expect(eventsOfWrite({ type: 'RemoveFinalizer', ref: { kind: 'Machine', namespace: 'team-a', name: 'x' }, finalizer: 'f' }, stored())).toEqual([]);
  });
});
