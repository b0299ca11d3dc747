/**
 * A host that crashed leaves its programs running: the next start kills those whose command line names the
 * provider's folder, and no other process that took a recorded pid, then starts the instance's programs again.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateClusterCertificates } from '../../../functions/adapters/kubeadm/index.js';
import { ProcessCloud } from '../../../local/process/process-cloud.js';
import type { ProcessState } from '../../../local/process/state.js';
import { alive } from '../../support/embedded-api.js';

const dir = mkdtempSync(join(tmpdir(), 'clusterless-process-crash-'));
const clouds: ProcessCloud[] = [];
const strangers: number[] = [];

afterAll(async () => {
  for (const c of clouds) await c.close();
  for (const pid of strangers) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('ProcessCloud after a crash of its host', { timeout: 240_000 }, () => {
  it('kills the programs the crashed host left, only those that are its own, and starts them again', async () => {
    // Prepare: a running control-plane machine; its host "crashes" (is never closed).
    const certs = await generateClusterCertificates(new Date(), 'ecdsa-p256');
    const options = { dir, ca: { certificates: async () => certs }, heartbeatMs: 3_600_000 };
    const crashed = await ProcessCloud.start(options);
    clouds.push(crashed);
    await crashed.machines.create({
      namespace: 'default',
      clusterName: 'c',
      machineName: 'c-0',
      machineUid: 'uid-c-0',
      role: 'control-plane',
      // The machine that initializes its cluster: it starts a new etcd.
      bootstrap: 'init',
      version: 'v1.34.1',
      clientToken: 't',
      machineClass: { process: {} },
      clusterProvider: { process: {} },
    });
    await crashed.settled();
    const left = crashed.pids();
    expect(left).toHaveLength(2);
    // A process that is not ours, under a pid the state names (as a pid reused since).
    const stranger = spawn('sleep', ['120'], { stdio: 'ignore' });
    strangers.push(stranger.pid!);
    const statePath = join(dir, 'state.json');
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as ProcessState;
    state.instances[0]!.pids = [...left, stranger.pid!];
    writeFileSync(statePath, JSON.stringify(state));
    // Act
    const next = await ProcessCloud.start(options);
    clouds.push(next);
    await next.settled();
    // Assess
    expect(left.filter(alive)).toEqual([]);
    expect(alive(stranger.pid!)).toBe(true);
    expect(next.pids().filter(alive)).toHaveLength(2);
    expect((await next.machines.describe('default', 'c')).map((i) => i.state)).toEqual(['running']);
  });
});
