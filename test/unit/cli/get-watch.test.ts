/**
 * `clusterless get -w` on a server that serves watches: the table first, then a row per event of the server's watch
 * (opened from the list's resourceVersion), no polling; Ctrl-C ends it. (Polling a server without watch is in
 * commands.test.ts.)
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeWorld, type FakeWorld } from './harness.js';
import { machine, path } from './fixtures.js';

let w: FakeWorld;
beforeEach(() => {
  w = fakeWorld(undefined, { watch: true });
});

const watchRequests = () => w.requests.filter((r) => r.query['watch'] === 'true');
const interrupt = () => {
  for (const h of w.interrupts) h('SIGINT');
};

/** A CLI that polls (sleeps) instead of watching is stopped after a few polls, so that the test fails rather than spins. */
const pollingStops = (counted: () => void) => {
  let polls = 0;
  return () => {
    counted();
    if (++polls > 3) interrupt();
  };
};

describe('get -w against a server with watch', () => {
  it('prints the table, then a row for each change from the watch, without polling, until Ctrl-C', async () => {
    // Prepare
    await w.create(machine('m-1'));
    let slept = 0;
    w.onSleep = pollingStops(() => slept++);
    // Act
    const running = w.run(['get', 'machines', '-w']);
    await vi.waitFor(() => expect(watchRequests()).toHaveLength(1));
    await w.api('PATCH', path('machines', 'm-1', 'status'), { status: { phase: 'Provisioning' } });
    await w.create(machine('m-2'));
    await vi.waitFor(() => expect(w.output()).toContain('m-2'));
    interrupt();
    const r = await running;
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').map((l) => l.split(/\s+/).slice(0, 4).join(' '))).toEqual([
      'NAME CLUSTER NODE PHASE',
      'm-1 demo <none> <none>',
      'm-1 demo <none> Provisioning',
      'm-2 demo <none> <none>',
      '',
    ]);
    expect(watchRequests()[0]!.query).toMatchObject({ resourceVersion: expect.stringMatching(/^[0-9]+$/), allowWatchBookmarks: 'true' });
    expect(slept).toBe(0);
  });

  it("watches one object by name through fieldSelector=metadata.name: its deletion shows, another object's change does not", async () => {
    await w.create(machine('m-1'));
    await w.create(machine('m-2'));
    w.onSleep = pollingStops(() => {});
    const running = w.run(['get', 'machine', 'm-1', '-w', '-o', 'name']);
    await vi.waitFor(() => expect(watchRequests()).toHaveLength(1));
    await w.api('PATCH', path('machines', 'm-2', 'status'), { status: { phase: 'Provisioning' } });
    await w.api('DELETE', path('machines', 'm-1'));
    await vi.waitFor(() => expect(w.output().split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(2));
    interrupt();
    const r = await running;
    expect(watchRequests()[0]!.query['fieldSelector']).toBe('metadata.name=m-1');
    // The object as listed, then marked for deletion (its finalizer keeps it): two lines, none for m-2.
    expect(r.stdout).toBe('machine.clusterless.dev/m-1\nmachine.clusterless.dev/m-1\n');
  });

  it('polls instead when the server answers the watch with a list (a server that ignores watch)', async () => {
    // Prepare: a server whose lists carry a resourceVersion but whose watch is a plain list
    w = fakeWorld();
    await w.create(machine('m-1'));
    w.intercept = (req) =>
      req.query['watch'] === 'true' ? Response.json({ apiVersion: 'clusterless.dev/v1alpha1', kind: 'MachineList', metadata: {}, items: [] }) : undefined;
    const versioned = w.intercept;
    w.intercept = (req) =>
      req.query['limit'] === '1' ? Response.json({ kind: 'MachineList', metadata: { resourceVersion: '7' }, items: [] }) : versioned(req);
    let polls = 0;
    w.onSleep = async () => {
      polls++;
      if (polls === 1) await w.api('PATCH', path('machines', 'm-1', 'status'), { status: { phase: 'Provisioning' } });
      if (polls === 2) interrupt();
    };
    // Act
    const r = await w.run(['get', 'machines', '-w']);
    // Assess
    expect(r.code).toBe(0);
    expect(watchRequests()).toHaveLength(1);
    expect(r.stdout.split('\n').map((l) => l.split(/\s+/)[3])).toEqual(['PHASE', '<none>', 'Provisioning', undefined]);
  });
});
