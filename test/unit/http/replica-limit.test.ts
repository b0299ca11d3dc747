/**
 * Replicas are bounded: an int32 always, and at most the installation's limit (RouterDeps.limits, 1000 by
 * default) on create, replace and merge patch (the `kubectl scale` path), for MachineDeployments, MachineSets
 * and ControlPlanes. A huge count is a 422 naming spec.replicas and changes nothing.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { minimal } from '../api/fixtures.js';
import { api, ns, type Api } from './fixtures.js';

const KINDS = [
  { kind: 'MachineDeployment', plural: 'machinedeployments', over: 1001, atLimit: 1000 },
  { kind: 'MachineSet', plural: 'machinesets', over: 1001, atLimit: 1000 },
  // A control plane's count must also be odd: 1001 is the first odd count over the limit, 999 the last under it.
  { kind: 'ControlPlane', plural: 'controlplanes', over: 1001, atLimit: 999 },
] as const;

const manifest = (kind: (typeof KINDS)[number]['kind'], replicas: number) => {
  const m = minimal[kind]() as { metadata: { name: string }; spec: Record<string, unknown> };
  return { ...m, spec: { ...m.spec, replicas } };
};

const nameOf = (kind: (typeof KINDS)[number]['kind']) => (minimal[kind]() as { metadata: { name: string } }).metadata.name;

describe('replica limits', () => {
  let a: Api;
  beforeEach(() => {
    a = api();
  });

  async function refused(method: string, path: string, body: unknown, limit: RegExp) {
    const before = await a.snapshot();
    const res = await a.call(method, path, body);
    expect(res.status, res.body).toBe(422);
    expect(res.json.reason).toBe('Invalid');
    expect(res.json.details.causes).toEqual([expect.objectContaining({ field: 'spec.replicas', reason: 'FieldValueInvalid' })]);
    expect(res.json.details.causes[0].message).toMatch(limit);
    expect(await a.snapshot()).toEqual(before);
  }

  describe.each(KINDS)('$kind', ({ kind, plural, over, atLimit }) => {
    const collection = ns('default', plural);
    const object = ns('default', plural, nameOf(kind));

    it(`accepts ${atLimit} replicas and refuses ${over} on create, with the default limit of 1000`, async () => {
      await refused('POST', collection, manifest(kind, over), /less than or equal to 1000/);
      expect((await a.call('POST', collection, manifest(kind, atLimit))).status).toBe(201);
    });

    it('refuses a replace and a merge patch (kubectl scale) past the limit', async () => {
      await a.create(manifest(kind, 3) as never);
      await refused('PUT', object, manifest(kind, over), /less than or equal to 1000/);
      await refused('PATCH', object, { spec: { replicas: over } }, /less than or equal to 1000/);
    });

    it('refuses the largest int32, and anything past it, with a 422 naming spec.replicas', async () => {
      await refused('POST', collection, manifest(kind, 2_147_483_647), /less than or equal to 1000/);
      await a.create(manifest(kind, 3) as never);
      await refused('PATCH', object, { spec: { replicas: 2_147_483_649 } }, /less than or equal to 2147483647/);
    });
  });

  it('takes the limit the installation sets', async () => {
    a.deps.limits = { maxMachineDeploymentReplicas: 5 };
    await refused('POST', ns('default', 'machinedeployments'), manifest('MachineDeployment', 6), /less than or equal to 5\b/);
    expect((await a.call('POST', ns('default', 'machinedeployments'), manifest('MachineDeployment', 5))).status).toBe(201);
    a.deps.limits = { maxMachineDeploymentReplicas: 5000 };
    expect((await a.call('PATCH', ns('default', 'machinedeployments', 'workers'), { spec: { replicas: 4000 } })).status).toBe(200);
  });

  it('never locks an object above a lowered limit: other changes and scaling down still go through, scaling up does not', async () => {
    // Prepare: 10 replicas under a limit of 20, then the limit goes down to 5.
    a.deps.limits = { maxMachineDeploymentReplicas: 20 };
    await a.create(manifest('MachineDeployment', 10) as never);
    a.deps.limits = { maxMachineDeploymentReplicas: 5 };
    const path = ns('default', 'machinedeployments', 'workers');
    // Act, Assess
    expect((await a.call('PATCH', path, { metadata: { labels: { team: 'a' } } })).status).toBe(200);
    expect((await a.call('PATCH', path, { spec: { replicas: 8 } })).status).toBe(200);
    await refused('PATCH', path, { spec: { replicas: 9 } }, /less than or equal to 5\b/);
    expect((await a.call('PATCH', path, { spec: { replicas: 5 } })).json.spec.replicas).toBe(5);
  });

  it('holds no other kind to it', async () => {
    const res = await a.call('POST', ns('default', 'clusters'), { ...minimal.Cluster(), metadata: { name: 'c1' } });
    expect(res.status).toBe(201);
  });
});
