/**
 * Node taints on machine templates (and the Machines made from them), validated as Kubernetes validates a Node's
 * taints (pkg/apis/core/validation/validation.go: validateNodeTaints); a bad one is a 422 naming the field.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { API_VERSION } from '../../../functions/api/common.js';
import { handleRequest } from '../../../functions/api/http/index.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import { createCauses, created, expectOnlyCause, minimal, updateCauses, withValue } from './fixtures.js';

const TAINTS = 'spec.template.spec.taints';
const gpu = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' };

describe('template taints', () => {
  it('are accepted on a MachineDeployment and a MachineSet, with or without a value', () => {
    const taints = [gpu, { key: 'node.cluster.x-k8s.io/spot', effect: 'PreferNoSchedule' }, { key: 'dedicated', value: '', effect: 'NoExecute' }];
    const md = created(withValue(minimal.MachineDeployment(), TAINTS, taints)) as MachineDeployment;
    expect(md.spec.template.spec.taints).toEqual(taints);
    expect(created(withValue(minimal.MachineSet(), TAINTS, [gpu]))).toBeDefined();
  });

  it.each([
    { name: 'an effect Kubernetes does not have', taints: [{ key: 'a', effect: 'NoWay' }], field: `${TAINTS}[0].effect`, reason: 'FieldValueNotSupported' },
    { name: 'no effect', taints: [{ key: 'a' }], field: `${TAINTS}[0].effect`, reason: 'FieldValueNotSupported' },
    { name: 'a key that is no qualified name', taints: [{ key: 'GPU!', effect: 'NoSchedule' }], field: `${TAINTS}[0].key`, reason: 'FieldValueInvalid' },
    {
      name: 'a value that is no label value',
      taints: [gpu, { key: 'b', value: 'has spaces', effect: 'NoSchedule' }],
      field: `${TAINTS}[1].value`,
      reason: 'FieldValueInvalid',
    },
    { name: 'a key and effect pair twice', taints: [gpu, { ...gpu, value: 'other' }], field: `${TAINTS}[1]`, reason: 'FieldValueInvalid' },
    { name: 'an unknown field', taints: [{ ...gpu, timeAdded: 'now' }], field: `${TAINTS}[0].timeAdded`, reason: 'FieldValueNotSupported' },
  ] as const)('refuses $name, naming $field', ({ taints, field, reason }) => {
    expectOnlyCause(createCauses(withValue(minimal.MachineDeployment(), TAINTS, taints)), field, reason);
  });

  it('a key and effect pair twice is told apart from one key with two effects', () => {
    expect(created(withValue(minimal.MachineDeployment(), TAINTS, [gpu, { ...gpu, effect: 'NoExecute' }]))).toBeDefined();
  });

  it('are immutable on a Machine: its Node registered with them', () => {
    const old = created(withValue(minimal.Machine(), 'spec.taints', [gpu]));
    expectOnlyCause(updateCauses(old, withValue(old, 'spec.taints', [])), 'spec.taints', 'FieldValueInvalid', 'field is immutable');
  });

  it('a bad taint through the API is a 422 Status naming the field, and nothing is stored', async () => {
    // Prepare
    const store = new MemoryStore();
    const body = withValue(minimal.MachineDeployment(), TAINTS, [{ key: 'nvidia.com/gpu', effect: 'Sometimes' }]);
    // Act
    const res = await handleRequest(
      {
        method: 'POST',
        path: `/apis/${API_VERSION}/namespaces/default/machinedeployments`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
      { store },
    );
    // Assess
    expect(res.status).toBe(422);
    const status = JSON.parse(res.body) as { kind: string; details: { causes: { field: string }[] } };
    expect(status.kind).toBe('Status');
    expect(status.details.causes.map((c) => c.field)).toEqual([`${TAINTS}[0].effect`]);
    expect(await store.list<ApiObject>('MachineDeployment', 'default')).toEqual([]);
  });
});

describe('ControlPlane taints', () => {
  it('are validated as the template taints are, and added to a ControlPlane', () => {
    const cp = created(withValue(minimal.ControlPlane(), 'spec.taints', [gpu])) as ApiObject & { spec: { taints: unknown } };
    expect(cp.spec.taints).toEqual([gpu]);
    expectOnlyCause(
      createCauses(withValue(minimal.ControlPlane(), 'spec.taints', [{ key: 'a', effect: 'NoWay' }])),
      'spec.taints[0].effect',
      'FieldValueNotSupported',
    );
  });

  it("refuse kubeadm's control-plane taint, which every control-plane node gets anyway, naming the item", () => {
    expectOnlyCause(
      createCauses(withValue(minimal.ControlPlane(), 'spec.taints', [gpu, { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }])),
      'spec.taints[1]',
      'FieldValueInvalid',
    );
    // The same key with another effect is a taint of its own.
    expect(created(withValue(minimal.ControlPlane(), 'spec.taints', [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoExecute' }]))).toBeDefined();
  });
});
