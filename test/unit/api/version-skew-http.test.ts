/**
 * The version skew rules through the HTTP router (create, replace, merge patch, server-side apply, rollback): a 422
 * Invalid Status naming the field and the rule, and nothing changed in the store.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { API_VERSION } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { withValue } from './fixtures.js';
import { api, cluster, machineClass, machineDeployment, machineSet, ns, type Api } from '../http/fixtures.js';

const controlPlane = (version: string): ApiObject => ({
  apiVersion: API_VERSION,
  kind: 'ControlPlane',
  metadata: { name: 'c1-cp', namespace: 'default' },
  spec: { clusterName: 'c1', version, machineClassRef: { name: 'small' } },
});

/** What the control plane reports running, as its reconcile writes it. */
async function runs(a: Api, version: string): Promise<void> {
  const cp = (await a.store.get('ControlPlane', 'default', 'c1-cp'))!;
  await a.store.updateStatus({ ...cp, status: { ...cp.status, version } });
}

async function expectRefused(a: Api, send: () => Promise<{ status: number; json: any }>, field: string, rule: RegExp): Promise<void> {
  // Prepare
  const before = await a.snapshot();
  // Act
  const res = await send();
  // Assess
  expect(res.status).toBe(422);
  expect(res.json).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422 });
  expect(res.json.details.causes).toEqual(
    expect.arrayContaining([expect.objectContaining({ field, reason: 'FieldValueForbidden', message: expect.stringMatching(rule) })]),
  );
  expect(res.json.message).toMatch(rule);
  expect(await a.snapshot()).toEqual(before);
}

describe('version skew through the API', () => {
  let a: Api;

  beforeEach(async () => {
    a = api();
    await a.create(cluster());
    await a.create(machineClass());
    await a.create(controlPlane('v1.31.2'));
    await a.create(machineDeployment('md1', 'default', { version: 'v1.31.2' }));
    await runs(a, 'v1.31.2');
  });

  it('refuses a MachineDeployment patched to a minor the control plane does not run yet', async () => {
    // The control plane is asked for v1.32.0 first: its machines still run v1.31.2.
    expect((await a.call('PATCH', ns('default', 'controlplanes', 'c1-cp'), { spec: { version: 'v1.32.0' } })).status).toBe(200);
    await expectRefused(
      a,
      () => a.call('PATCH', ns('default', 'machinedeployments', 'md1'), { spec: { template: { spec: { version: 'v1.32.0' } } } }),
      'spec.template.spec.version',
      /version skew: v1\.32\.0 is a newer minor than the control plane/,
    );
  });

  it('lets workers follow once the control plane runs the new minor, in steps', async () => {
    expect((await a.call('PATCH', ns('default', 'controlplanes', 'c1-cp'), { spec: { version: 'v1.32.0' } })).status).toBe(200);
    await runs(a, 'v1.32.0');
    const res = await a.call('PATCH', ns('default', 'machinedeployments', 'md1'), { spec: { template: { spec: { version: 'v1.32.0' } } } });
    expect(res.status).toBe(200);
    expect(res.json.spec.template.spec.version).toBe('v1.32.0');
  });

  it('refuses a second control-plane minor before its machines run the first (PUT)', async () => {
    expect((await a.call('PATCH', ns('default', 'controlplanes', 'c1-cp'), { spec: { version: 'v1.32.0' } })).status).toBe(200);
    const live = (await a.call('GET', ns('default', 'controlplanes', 'c1-cp'))).json;
    await expectRefused(
      a,
      () => a.call('PUT', ns('default', 'controlplanes', 'c1-cp'), { ...live, spec: { ...live.spec, version: 'v1.33.0' } }),
      'spec.version',
      /control plane upgrade skips a minor version: it runs v1\.31\.2/,
    );
  });

  it('refuses a control-plane upgrade that would leave a worker more than three minors behind', async () => {
    await a.create(machineDeployment('old', 'default', { version: 'v1.28.0' }));
    await expectRefused(
      a,
      () => a.call('PATCH', ns('default', 'controlplanes', 'c1-cp'), { spec: { version: 'v1.32.0' } }),
      'spec.version',
      /MachineDeployment old runs v1\.28\.0, which would be more than 3 minor versions older/,
    );
  });

  it('refuses a MachineSet created more than three minors behind the control plane', async () => {
    const md = (await a.call('GET', ns('default', 'machinedeployments', 'md1'))).json;
    await expectRefused(
      a,
      () => a.call('POST', ns('default', 'machinesets'), withValue(machineSet(md, 2, 'v1.27.0', 'h2'), 'spec.replicas', 1)),
      'spec.template.spec.version',
      /more than 3 minor versions older than the control plane's v1\.31\.2/,
    );
  });

  it('refuses the same through a server-side apply', async () => {
    const manifest = machineDeployment('md1', 'default', { version: 'v1.32.0' });
    await expectRefused(
      a,
      () =>
        a.call(
          'PATCH',
          ns('default', 'machinedeployments', 'md1'),
          JSON.stringify(manifest),
          { 'content-type': 'application/apply-patch+yaml' },
          { fieldManager: 'test' },
        ),
      'spec.template.spec.version',
      /newer minor than the control plane/,
    );
  });

  it('leaves workers of a cluster without a ControlPlane unconstrained', async () => {
    const other = withValue(machineDeployment('md2'), 'spec.clusterName', 'c2');
    await a.create(cluster('c2'));
    expect((await a.call('POST', ns('default', 'machinedeployments'), other)).status).toBe(201);
    const res = await a.call('PATCH', ns('default', 'machinedeployments', 'md2'), { spec: { template: { spec: { version: 'v1.32.0' } } } });
    expect(res.status).toBe(200);
  });

  it('allows a patch upgrade of the workers alone (same minor as the control plane)', async () => {
    const res = await a.call('PATCH', ns('default', 'machinedeployments', 'md1'), { spec: { template: { spec: { version: 'v1.31.3' } } } });
    expect(res.status).toBe(200);
  });
});
