/**
 * The order a Cluster's deletion takes (cluster-api core/reconcilers/cluster/cluster_controller.go reconcileDelete):
 * workers, control plane, health checks, then the infrastructure; each waiting step writes only what it deletes.
 */
import { describe, expect, it } from 'vitest';
import { clusterDeletionStep } from '../../../../functions/core/cluster/deletion.js';
import type { ObjectRef } from '../../../../functions/core/plan.js';
import { T0, cluster, healthCheck, instance, iso, machine, objects } from './fixtures.js';

const ref: ObjectRef = { kind: 'Cluster', namespace: 'default', name: 'demo', uid: 'uid-cluster' };
const deleting = () => cluster({ deleting: true });

describe('clusterDeletionStep', () => {
  it('waits for health checks already being deleted, writing nothing', () => {
    const mhc = healthCheck();
    mhc.metadata.deletionTimestamp = iso(T0);
    const step = clusterDeletionStep(objects({ cluster: deleting(), machineHealthChecks: [mhc] }), { instances: [], nodes: [] }, ref);
    expect([step.reason, step.writes, step.done]).toEqual(['WaitingForWorkersDeletion', [], false]);
  });

  it('asks the infrastructure to go, writing nothing', () => {
    const step = clusterDeletionStep(objects({ cluster: deleting() }), { instances: [instance(machine('w1'))], nodes: [] }, ref);
    expect([step.reason, step.writes, step.actions.map((a) => a.type)]).toEqual(['WaitingForInfrastructureDeletion', [], ['DeleteInfrastructure']]);
  });

  it('waits for instances shutting down, writing and asking nothing', () => {
    const step = clusterDeletionStep(objects({ cluster: deleting() }), { instances: [instance(machine('w1'), 'shutting-down')], nodes: [] }, ref);
    expect([step.message, step.writes, step.actions]).toEqual(['Waiting for instances i-w1 to terminate', [], []]);
  });

  it('is done once nothing is left', () => {
    expect(clusterDeletionStep(objects({ cluster: deleting() }), { instances: [], nodes: [] }, ref)).toEqual({
      reason: 'DeletionCompleted',
      message: 'Deletion completed',
      writes: [],
      actions: [],
      done: true,
    });
  });
});
