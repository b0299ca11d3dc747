/** `clusterless sim interrupt`: the host-only notice routes of the embedded host's simulated cloud. */
import { beforeEach, describe, expect, it } from 'vitest';
import { fakeWorld, type FakeWorld } from './harness.js';

let w: FakeWorld;
beforeEach(() => {
  w = fakeWorld();
});

describe('sim interrupt', () => {
  it('POSTs to the machine interrupt route and prints the warned instance and its termination time', async () => {
    w.intercept = (req) =>
      req.path.endsWith('/machines/m1/interrupt')
        ? Response.json({ kind: 'Machine', instances: [{ instanceId: 'i-1', terminationTime: '2026-01-01T00:02:00.000Z' }] })
        : undefined;
    const r = await w.run(['sim', 'interrupt', 'm1', '-n', 'team-a']);
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: 'machine.clusterless.dev/m1: interruption warning sent for i-1, terminated at 2026-01-01T00:02:00.000Z\n',
    });
    expect(w.requests.at(-1)).toMatchObject({ method: 'POST', path: '/clusterless/v1/sim/namespaces/team-a/machines/m1/interrupt' });
  });

  it('with --rebalance sends a rebalance recommendation instead', async () => {
    w.intercept = (req) => (req.path.endsWith('/machines/m1/rebalance') ? Response.json({ kind: 'Machine', instances: [{ instanceId: 'i-1' }] }) : undefined);
    const r = await w.run(['sim', 'interrupt', 'm1', '--rebalance']);
    expect(r.stdout).toBe('machine.clusterless.dev/m1: rebalance recommendation sent for i-1\n');
    expect(w.requests.at(-1)).toMatchObject({ method: 'POST', path: '/clusterless/v1/sim/namespaces/default/machines/m1/rebalance' });
  });

  it('says in one line that a server without the simulator does not serve it', async () => {
    const r = await w.run(['sim', 'interrupt', 'm1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not serve the simulator .*POST \/clusterless\/v1\/sim\/namespaces\/default\/machines\/m1\/interrupt answered 404/);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
