/** The harness itself: emulators start on 127.0.0.1 and stop, and a missing moto says how to fix it. */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { emulatorDynamoDbClient } from './dynamodb-store-factory.js';
import { startDynalite } from './dynalite.js';
import { bootstrapToolsBin } from './global-setup.js';
import { startMotoServer } from './moto.js';

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(endpoint, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

describe('test harness', () => {
  const saved = process.env.CLUSTERLESS_MOTO_VENV;
  const temps: string[] = [];
  afterEach(() => {
    if (saved === undefined) delete process.env.CLUSTERLESS_MOTO_VENV;
    else process.env.CLUSTERLESS_MOTO_VENV = saved;
    for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
  });

  it('starts moto_server on 127.0.0.1 and stops it', async () => {
    const moto = await startMotoServer();
    expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = emulatorDynamoDbClient(moto.endpoint);
    expect((await client.send(new ListTablesCommand({}))).TableNames).toBeDefined();
    client.destroy();
    await moto.stop();
    expect(await answers(moto.endpoint)).toBe(false);
  });

  it('fails with the set-up command when moto is missing', async () => {
    process.env.CLUSTERLESS_MOTO_VENV = join(tmpdir(), 'clusterless-no-such-venv');
    await expect(startMotoServer()).rejects.toThrow('bash scripts/setup-test-env.sh');
  });

  it('starts dynalite in process on 127.0.0.1 and stops it', async () => {
    const dynalite = await startDynalite();
    expect(dynalite.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = emulatorDynamoDbClient(dynalite.endpoint);
    expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([]);
    client.destroy();
    await dynalite.stop();
    expect(await answers(dynalite.endpoint)).toBe(false);
  });

  it('setup-test-env.sh leaves a ready venv alone', () => {
    const venv = mkdtempSync(join(tmpdir(), 'clusterless-venv-'));
    temps.push(venv);
    mkdirSync(join(venv, 'bin'));
    writeFileSync(join(venv, 'bin', 'moto_server'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(venv, 'bin', 'moto_server'), 0o755);
    const script = join(import.meta.dirname, '..', '..', 'scripts', 'setup-test-env.sh');
    const bash = spawnSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();
    const run = () => spawnSync(bash, [script], { env: { ...process.env, CLUSTERLESS_MOTO_VENV: venv, CLUSTERLESS_SKIP_KUBE_BUILD: '1', PATH: '/nonexistent' }, encoding: 'utf8' });
    const first = run();
    // No python on PATH and no pinned stamp: it must try to install, and say what is missing.
    expect(first.status).not.toBe(0);
    expect(first.stderr).toContain('python3');
    const version = /^MOTO_VERSION=(\S+)$/m.exec(readFileSync(script, 'utf8'))?.[1];
    writeFileSync(join(venv, `.clusterless-moto-${version}`), '');
    const second = run();
    expect(second.status).toBe(0);
    expect(second.stderr).toBe('');
  });

  it('the bootstrap tests run cloud-init and shellcheck from the per-user cache, and no set-up script installs a system package', () => {
    // Prepare: what the test workers resolve the tools to (global-setup puts the cache first on PATH).
    const which = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    // Assess
    for (const tool of ['cloud-init', 'shellcheck']) expect(which(tool), tool).toBe(join(bootstrapToolsBin(), tool));
    const scripts = join(import.meta.dirname, '..', '..', 'scripts');
    for (const file of ['setup-test-env.sh', 'setup-bootstrap-tools.sh', 'build-kube.sh', 'build-kubeadm.sh', 'lib/kubernetes-commands.sh']) {
      const code = readFileSync(join(scripts, file), 'utf8')
        .split('\n')
        .filter((line) => !/^\s*(#|echo\s)/.test(line)) // comments, and hints that tell a person what to install
        .join('\n');
      expect(code, file).not.toMatch(/\bsudo\b|apt-get\s+(-\S+\s+)*install\b|\bapt\s+install\b|dpkg\s+-i\b|systemctl\s+enable/);
    }
  });
});

