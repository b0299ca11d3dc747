/**
 * The scale subresource (autoscaling/v1 Scale) through the router: its shape, writes of spec.replicas by PUT,
 * merge patch and JSON patch, and the rules that still hold (int32, the object's validation, the replica limit,
 * resourceVersion preconditions).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { API_VERSION } from '../../../functions/api/common.js';
import { api, cluster, machineClass, machineDeployment, ns, type Api } from './fixtures.js';

const MD = ns('default', 'machinedeployments', 'md1');

describe('the scale subresource', () => {
  let a: Api;
  let md: any;

  beforeEach(async () => {
    a = api();
    await a.create(cluster());
    await a.create(machineClass());
    md = await a.create(machineDeployment());
  });

  const replicas = async () => ((await a.store.get('MachineDeployment', 'default', 'md1'))!.spec as { replicas: number }).replicas;

  it('reads spec.replicas from the object, status.replicas and status.selector from its status', async () => {
    expect((await a.call('GET', `${MD}/scale`)).json).toEqual({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: {
        name: 'md1',
        namespace: 'default',
        uid: md.metadata.uid,
        resourceVersion: md.metadata.resourceVersion,
        creationTimestamp: md.metadata.creationTimestamp,
      },
      spec: { replicas: 3 },
      status: { replicas: 0 },
    });
    await a.call('PATCH', `${MD}/status`, { status: { replicas: 2, selector: 'a=b' } });
    expect((await a.call('GET', `${MD}/scale`)).json.status).toEqual({ replicas: 2, selector: 'a=b' });
  });

  it.each([
    { name: 'PUT', method: 'PUT', body: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'md1' }, spec: { replicas: 5 } }, headers: {} },
    { name: 'a merge patch (kubectl scale)', method: 'PATCH', body: { spec: { replicas: 5 } }, headers: {} },
    {
      name: 'a JSON patch',
      method: 'PATCH',
      body: [
        { op: 'test', path: '/spec/replicas', value: 3 },
        { op: 'replace', path: '/spec/replicas', value: 5 },
      ],
      headers: { 'content-type': 'application/json-patch+json' },
    },
  ])('$name sets spec.replicas and answers the new Scale', async ({ method, body, headers }) => {
    const res = await a.call(method, `${MD}/scale`, body, headers);
    expect(res.status, res.body).toBe(200);
    expect(res.json.spec).toEqual({ replicas: 5 });
    expect(res.json.metadata.resourceVersion).not.toBe(md.metadata.resourceVersion);
    expect(await replicas()).toBe(5);
  });

  it('scales MachineSets and ControlPlanes too', async () => {
    await a.create({
      apiVersion: API_VERSION,
      kind: 'ControlPlane',
      metadata: { name: 'cp', namespace: 'default' },
      spec: { clusterName: 'c1', replicas: 1, version: 'v1.31.2', machineClassRef: { name: 'small' } },
    });
    const res = await a.call('PATCH', `${ns('default', 'controlplanes', 'cp')}/scale`, { spec: { replicas: 3 } });
    expect(res.status, res.body).toBe(200);
    expect(((await a.store.get('ControlPlane', 'default', 'cp'))!.spec as { replicas: number }).replicas).toBe(3);
    expect((await a.call('GET', `${ns('default', 'machinesets', 'nope')}/scale`)).status).toBe(404);
  });

  it.each([
    { name: 'a replica count that is no int32', body: { spec: { replicas: 3_000_000_000 } }, code: 400, field: 'spec.replicas' },
    { name: 'a fractional replica count', body: { spec: { replicas: 1.5 } }, code: 400, field: 'spec.replicas' },
    { name: 'a negative replica count (the object is invalid)', body: { spec: { replicas: -1 } }, code: 422, field: 'spec.replicas' },
    { name: 'more replicas than the installation allows', body: { spec: { replicas: 1001 } }, code: 422, field: 'spec.replicas' },
    { name: 'a stale resourceVersion', body: { metadata: { resourceVersion: '1' }, spec: { replicas: 4 } }, code: 409 },
    { name: 'an unknown field', body: { spec: { replicas: 4, paused: true } }, code: 400 },
    { name: 'a Scale of another name', body: { metadata: { name: 'other' }, spec: { replicas: 4 } }, code: 400 },
  ])('refuses $name with $code and changes nothing', async ({ body, code, field }) => {
    const before = await a.snapshot();
    const res = await a.call('PATCH', `${MD}/scale`, body);
    expect(res.status, res.body).toBe(code);
    if (field) expect(res.json.details.causes.map((c: { field: string }) => c.field)).toContain(field);
    expect(await a.snapshot()).toEqual(before);
  });

  it('takes a PUT with the current resourceVersion, and refuses one with an older', async () => {
    const put = (resourceVersion: string, n: number) =>
      a.call('PUT', `${MD}/scale`, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'md1', resourceVersion }, spec: { replicas: n } });
    expect((await put(md.metadata.resourceVersion, 4)).status).toBe(200);
    expect((await put(md.metadata.resourceVersion, 6)).status).toBe(409);
    expect(await replicas()).toBe(4);
  });

  it('refuses a failed JSON patch test with 422 as kube-apiserver words it', async () => {
    const res = await a.call('PATCH', `${MD}/scale`, [{ op: 'test', path: '/spec/replicas', value: 9 }], { 'content-type': 'application/json-patch+json' });
    expect(res.status).toBe(422);
    expect(res.json.message).toBe('the server rejected our request due to an error in our request');
    expect(await replicas()).toBe(3);
  });
});
