/** `kubectl rollout undo` as a pure function (kubectl polymorphichelpers/rollback.go, Kubernetes rollback.go). */
import { describe, expect, it } from 'vitest';
import { Labels } from '../../../../functions/api/common.js';
import type { MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import type { MachineSet } from '../../../../functions/api/machine-set.js';
import {
  InvalidRevisionError,
  NoRolloutHistoryError,
  PausedRollbackError,
  RevisionNotFoundError,
  RollbackError,
  rollbackMachineDeployment,
} from '../../../../functions/core/machinedeployment/rollback.js';
import { machineSetTemplate, templateHash } from '../../../../functions/core/machinedeployment/template-hash.js';
import { machineDeployment } from '../machineset/fixtures.js';

/** A MachineSet the deployment made at some revision, from a deployment with that version. */
function revisionOf(md: MachineDeployment, revision: number, version: string, annotations: Record<string, string> = {}): MachineSet {
  const at = { ...md, spec: { ...md.spec, template: { ...md.spec.template, spec: { ...md.spec.template.spec, version } } } };
  const hash = templateHash(at.spec.template);
  return {
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'MachineSet',
    metadata: {
      name: `md-${hash}`,
      namespace: 'default',
      uid: `ms-${revision}`,
      annotations: { 'clusterless.dev/revision': String(revision), 'clusterless.dev/desired-replicas': '3', ...annotations },
      ownerReferences: [{ apiVersion: 'clusterless.dev/v1alpha1', kind: 'MachineDeployment', name: md.metadata.name, uid: md.metadata.uid!, controller: true }],
    },
    spec: { clusterName: 'c1', replicas: 0, selector: {}, template: machineSetTemplate(at, hash), minReadySeconds: 0, deletePolicy: 'Random' },
  };
}

describe('rollbackMachineDeployment', () => {
  const md = machineDeployment({ version: 'v1.31.2' });
  const sets = [revisionOf(md, 1, 'v1.29.9'), revisionOf(md, 2, 'v1.30.5', { 'example.com/change-cause': 'upgrade to 1.30' }), revisionOf(md, 3, 'v1.31.2')];
  const foreign = { ...revisionOf(md, 9, 'v1.28.0'), metadata: { ...revisionOf(md, 9, 'v1.28.0').metadata, ownerReferences: [] } };

  it.each([
    { name: 'toRevision 0 goes to the previous revision', toRevision: 0, revision: 2, version: 'v1.30.5' },
    { name: 'an explicit revision', toRevision: 1, revision: 1, version: 'v1.29.9' },
  ])('$name: copies that set template minus the template-hash label', ({ toRevision, revision, version }) => {
    // Act
    const r = rollbackMachineDeployment(md, [...sets, foreign], toRevision);
    // Assess
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r).toMatchObject({ revision, changed: true, message: `rolled back to revision ${revision}` });
    expect(r.machineDeployment.spec.template.spec.version).toBe(version);
    expect(r.machineDeployment.spec.template.metadata.labels).toEqual({ [Labels.clusterName]: 'c1', [Labels.deploymentName]: 'md' });
    expect(r.machineDeployment.spec.replicas).toBe(md.spec.replicas);
  });

  it('brings back the annotations that set carried from the deployment, not the rollout machinery ones', () => {
    // Prepare
    const annotated = { ...md, metadata: { ...md.metadata, annotations: { 'clusterless.dev/revision': '3', 'example.com/change-cause': 'upgrade to 1.31' } } };
    // Act
    const r = rollbackMachineDeployment(annotated, sets, 2);
    // Assess
    expect(r.ok && r.machineDeployment.metadata.annotations).toEqual({ 'clusterless.dev/revision': '3', 'example.com/change-cause': 'upgrade to 1.30' });
  });

  it('changes nothing when the deployment already has that template (skipped rollback)', () => {
    // Act
    const r = rollbackMachineDeployment(md, sets, 3);
    // Assess
    expect(r).toMatchObject({ ok: true, changed: false, revision: 3, message: 'skipped rollback (current template already matches revision 3)' });
    expect(r.ok && r.machineDeployment).toBe(md);
  });

  it.each([
    {
      name: 'a revision that does not exist',
      md,
      sets,
      toRevision: 7,
      error: RevisionNotFoundError,
      message: 'unable to find revision 7 in the history of MachineDeployment md (known revisions: 3, 2, 1)',
    },
    { name: 'a set of another deployment', md, sets: [...sets, foreign], toRevision: 9, error: RevisionNotFoundError, message: /known revisions: 3, 2, 1/ },
    {
      name: 'no previous revision',
      md,
      sets: [sets[2]!],
      toRevision: 0,
      error: NoRolloutHistoryError,
      message: /no rollout history found for MachineDeployment md/,
    },
    { name: 'a paused deployment', md: machineDeployment({ paused: true }), sets, toRevision: 0, error: PausedRollbackError, message: /resume it first/ },
    { name: 'a negative revision', md, sets, toRevision: -1, error: InvalidRevisionError, message: /integer >= 0/ },
  ])('refuses $name', ({ md: d, sets: s, toRevision, error, message }) => {
    // Act
    const r = rollbackMachineDeployment(d, s, toRevision);
    // Assess
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(error);
    expect(r.error.message).toMatch(message);
  });
});

describe('rollbackMachineDeployment, more', () => {
  const md = machineDeployment({ version: 'v1.31.2' });

  it('each refusal carries its class name, for logs', () => {
    expect([
      new RollbackError('refused').name,
      new InvalidRevisionError(-1).name,
      new PausedRollbackError('md').name,
      new NoRolloutHistoryError('md').name,
      new RevisionNotFoundError('md', 5, []).name,
    ]).toEqual(['RollbackError', 'InvalidRevisionError', 'PausedRollbackError', 'NoRolloutHistoryError', 'RevisionNotFoundError']);
  });

  it('says that no revision is known when the deployment has no MachineSet', () => {
    const r = rollbackMachineDeployment(md, [], 5);
    expect(r.ok ? '' : r.error.message).toContain('(known revisions: none)');
  });

  it('a MachineSet without a revision is no history to roll back to', () => {
    // Prepare
    const unnumbered = revisionOf(md, 1, 'v1.29.9');
    delete unnumbered.metadata.annotations!['clusterless.dev/revision'];
    // Act
    const r = rollbackMachineDeployment(md, [unnumbered, revisionOf(md, 3, 'v1.31.2')], 0);
    // Assess
    expect(r.ok ? undefined : r.error).toBeInstanceOf(NoRolloutHistoryError);
  });

  it("takes the set's annotations, not the deployment's own, and leaves no empty annotations behind", () => {
    // Prepare
    const annotated = { ...md, metadata: { ...md.metadata, annotations: { 'example.com/change-cause': 'upgrade to 1.31' } } };
    // Act
    const withOwn = rollbackMachineDeployment(annotated, [revisionOf(md, 2, 'v1.30.5'), revisionOf(md, 3, 'v1.31.2')], 0);
    const bare = rollbackMachineDeployment(md, [revisionOf(md, 2, 'v1.30.5'), revisionOf(md, 3, 'v1.31.2')], 0);
    // Assess
    expect(withOwn.ok && withOwn.machineDeployment.metadata).not.toHaveProperty('annotations');
    expect(bare.ok && bare.machineDeployment.metadata).not.toHaveProperty('annotations');
  });
});
