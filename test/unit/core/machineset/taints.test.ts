/**
 * Template taints: each new Machine carries its template's taints (its bootstrap registers the Node with them), and a
 * change of them rolls out new machines, as a bootstrap config change does in Cluster API (the MachineDeployment's
 * template names a new KubeadmConfigTemplate; mdutil MachineTemplateUpToDate).
 */
import { describe, expect, it } from 'vitest';
import type { NodeTaint } from '../../../../functions/api/taint.js';
import { templateDifferences, templateIdentity } from '../../../../functions/core/machinedeployment/template-hash.js';
import { newMachine } from '../../../../functions/core/machineset/planner.js';
import { machineDeployment, machineSet } from './fixtures.js';

const gpu: NodeTaint = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' };

describe('template taints', () => {
  it('are copied to every new Machine, and a template without them makes Machines without', () => {
    const ms = machineSet();
    ms.spec.template.spec.taints = [gpu];
    expect(newMachine(ms, 'ms1-a', undefined).spec.taints).toEqual([gpu]);
    expect(newMachine(machineSet(), 'ms1-b', undefined).spec).not.toHaveProperty('taints');
  });

  it.each([
    { name: 'added', from: undefined, to: [gpu] },
    { name: 'removed', from: [gpu], to: undefined },
    { name: 'changed in effect', from: [gpu], to: [{ ...gpu, effect: 'NoExecute' as const }] },
  ])('roll out new machines when $name, and say so', ({ from, to }) => {
    const current = structuredClone(machineDeployment().spec.template);
    const desired = structuredClone(current);
    if (from) current.spec.taints = from;
    if (to) desired.spec.taints = to;
    expect(templateIdentity(current)).not.toBe(templateIdentity(desired));
    expect(templateDifferences(current, desired)).toEqual(['* Taints changed']);
  });
});
