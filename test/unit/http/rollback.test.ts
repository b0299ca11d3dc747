/** POST .../machinedeployments/{name}/rollback: `kubectl rollout undo` for MachineDeployments. */
import { beforeEach, describe, expect, it } from 'vitest';
import { Labels } from '../../../functions/api/common.js';
import { api, machineDeployment, machineSet, ns, type Api } from './fixtures.js';

const MD = ns('default', 'machinedeployments', 'md1');

describe('rollback', () => {
  let a: Api;
  let md: any;

  beforeEach(async () => {
    // Prepare: revision 1 ran v1.30.5, revision 2 (current) runs v1.31.2.
    a = api();
    md = await a.create(machineDeployment('md1', 'default', { version: 'v1.31.2' }));
    await a.create(machineSet(md, 1, 'v1.30.5', 'aaaa'));
    await a.create(machineSet(md, 2, 'v1.31.2', 'bbbb'));
    // A set of another deployment with a higher revision must not count.
    await a.create(machineSet({ ...md, metadata: { ...md.metadata, name: 'other', uid: 'other-uid' } }, 9, 'v1.29.0', 'cccc'));
  });

  it.each([
    { name: 'toRevision 0 goes to the previous revision', toRevision: 0 },
    { name: 'an explicit revision', toRevision: 1 },
  ])('$name: copies that set template minus the template-hash label, as kubectl rollout undo does', async ({ toRevision }) => {
    const res = await a.call('POST', `${MD}/rollback`, { toRevision });
    expect(res.status).toBe(200);
    expect(res.json.spec.template).toEqual({
      metadata: { labels: { [Labels.clusterName]: 'c1', [Labels.deploymentName]: 'md1' } },
      spec: { version: 'v1.30.5', machineClassRef: { name: 'small' }, nodeDrainTimeoutSeconds: 300 },
    });
    expect(res.json.spec.replicas).toBe(md.spec.replicas);
    expect(res.json.metadata.generation).toBe(2);
    expect(await a.store.get('MachineDeployment', 'default', 'md1')).toEqual(res.json);
  });

  it('changes nothing when the deployment already has that template', async () => {
    const res = await a.call('POST', `${MD}/rollback`, { toRevision: 2 });
    expect(res.status).toBe(200);
    expect(res.json.metadata.resourceVersion).toBe(md.metadata.resourceVersion);
  });

  it('ignores MachineSets the deployment does not own', async () => {
    const before = await a.snapshot();
    const res = await a.call('POST', `${MD}/rollback`, { toRevision: 9 });
    expect(res.status).toBe(422);
    expect(res.json.details.causes[0]).toMatchObject({ field: 'toRevision' });
    expect(res.json.details.causes[0].message).toMatch(/known revisions: 2, 1/);
    expect(await a.snapshot()).toEqual(before);
  });

  it('refuses to roll back a paused deployment', async () => {
    await a.call('PATCH', MD, { spec: { paused: true } });
    const before = await a.snapshot();
    const res = await a.call('POST', `${MD}/rollback`, { toRevision: 0 });
    expect(res.status).toBe(422);
    expect(res.json.details.causes[0]).toMatchObject({ field: 'spec.paused' });
    expect(await a.snapshot()).toEqual(before);
  });

  it.each([
    { name: 'no body', body: undefined },
    { name: 'an empty body', body: '' },
    { name: 'a body of whitespace', body: ' \n\t' },
  ])('reads $name as {} (toRevision 0, the previous revision), as kubectl rollout undo means it', async ({ body }) => {
    const res = await a.call('POST', `${MD}/rollback`, body, { 'content-type': 'application/json' });
    expect(res.status, res.body).toBe(200);
    expect(res.json.spec.template.spec.version).toBe('v1.30.5');
    expect(await a.store.get('MachineDeployment', 'default', 'md1')).toEqual(res.json);
  });

  it('reads a missing toRevision as 0', async () => {
    const res = await a.call('POST', `${MD}/rollback`, {});
    expect(res.status).toBe(200);
    expect(res.json.spec.template.spec.version).toBe('v1.30.5');
  });
});
