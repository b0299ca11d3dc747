/** The harness itself: emulators start on 127.0.0.1 and stop, and a missing moto says how to fix it. */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { emulatorDynamoDbClient } from './dynamodb-store-factory.js';
import { startDynalite } from './dynalite.js';
import { bootstrapToolsBin } from './tools-path.js';
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
    const run = () =>
      spawnSync(bash, [script], {
        env: { ...process.env, CLUSTERLESS_MOTO_VENV: venv, CLUSTERLESS_SKIP_KUBE_BUILD: '1', PATH: '/nonexistent' },
        encoding: 'utf8',
      });
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

  describe('setup-bootstrap-tools.sh where apt-get, dpkg-deb and python3 are missing', () => {
    const script = join(import.meta.dirname, '..', '..', 'scripts', 'setup-bootstrap-tools.sh');
    const bash = spawnSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();

    /** A PATH of the few utilities the script needs, and (with `tools`) a cloud-init and a shellcheck of the system's. */
    function system(tools: boolean): { path: string; fakes: string; cache: string } {
      const root = mkdtempSync(join(tmpdir(), 'clusterless-bootstrap-'));
      temps.push(root);
      const utilities = join(root, 'utilities');
      const fakes = join(root, 'system-bin');
      mkdirSync(utilities);
      mkdirSync(fakes);
      for (const u of ['mkdir', 'mktemp', 'rm', 'ln', 'head', 'sed']) {
        const at = spawnSync('sh', ['-c', `command -v ${u}`], { encoding: 'utf8' }).stdout.trim();
        symlinkSync(at, join(utilities, u));
      }
      if (tools) {
        writeFileSync(join(fakes, 'cloud-init'), '#!/bin/sh\ncase "$1" in --version) echo "/usr/bin/cloud-init 23.1.2";; schema) exit 0;; *) exit 2;; esac\n');
        writeFileSync(
          join(fakes, 'shellcheck'),
          '#!/bin/sh\nif [ "$1" = --version ]; then printf "ShellCheck - shell script analysis tool\\nversion: 0.8.0\\n"; fi\nexit 0\n',
        );
        chmodSync(join(fakes, 'cloud-init'), 0o755);
        chmodSync(join(fakes, 'shellcheck'), 0o755);
      }
      return { path: `${utilities}:${fakes}`, fakes, cache: join(root, 'cache') };
    }
    const run = (s: { path: string; cache: string }) =>
      spawnSync(bash, [script], {
        env: { HOME: tmpdir(), PATH: s.path, CLUSTERLESS_BOOTSTRAP_TOOLS: s.cache, CLUSTERLESS_SKIP_KUBE_BUILD: '1' },
        encoding: 'utf8',
      });

    it('uses the cloud-init and shellcheck on PATH, saying which versions against the pinned ones, and records it in the stamp', () => {
      // Prepare
      const s = system(true);
      // Act
      const first = run(s);
      const again = run(s);
      // Assess
      expect(first.status, first.stderr).toBe(0);
      expect(first.stderr).toContain(
        `python3 apt-get dpkg-deb not found: using cloud-init from ${s.fakes}/cloud-init (/usr/bin/cloud-init 23.1.2) and shellcheck from ${s.fakes}/shellcheck (0.8.0), found on PATH; the pinned set is cloud-init 22.4.2 and ShellCheck 0.9.0`,
      );
      expect(readlinkSync(join(s.cache, 'bin', 'cloud-init'))).toBe(join(s.fakes, 'cloud-init'));
      expect(readlinkSync(join(s.cache, 'bin', 'shellcheck'))).toBe(join(s.fakes, 'shellcheck'));
      const stamp = readFileSync(join(s.cache, '.clusterless-bootstrap-tools'), 'utf8').split('\n');
      expect(stamp[0]).toMatch(/^pins=cloud-init=22\.4\.2 shellcheck=0\.9\.0 /);
      expect(stamp[1]).toBe(`source=PATH ${s.fakes}/cloud-init (/usr/bin/cloud-init 23.1.2), ${s.fakes}/shellcheck (0.8.0)`);
      expect(again).toMatchObject({ status: 0, stderr: '' });
    });

    it('fails saying exactly what to install when there are no such tools either, and leaves no stamp', () => {
      const s = system(false);
      const r = run(s);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('python3 apt-get dpkg-deb not found');
      expect(r.stderr).toContain("install cloud-init (22.4.2) and shellcheck (0.9.0) with your system's package manager so that both are on PATH");
      expect(existsSync(join(s.cache, '.clusterless-bootstrap-tools'))).toBe(false);
    });

    it('takes a cache an earlier version filled with the pinned cloud-init as it is, recording it', () => {
      // Prepare: the old stamp, the tools and cloud-init 22.4.2 unpacked; nothing on PATH to fetch anything with
      const s = system(false);
      mkdirSync(join(s.cache, 'bin'), { recursive: true });
      mkdirSync(join(s.cache, 'cloud-init', 'usr', 'lib', 'python3', 'dist-packages', 'cloud_init-22.4.2.egg-info'), { recursive: true });
      for (const t of ['cloud-init', 'shellcheck']) writeFileSync(join(s.cache, 'bin', t), '#!/bin/sh\n', { mode: 0o755 });
      writeFileSync(join(s.cache, '.clusterless-bootstrap-tools-v1'), '');
      // Act
      const r = run(s);
      // Assess
      expect(r).toMatchObject({ status: 0, stderr: '' });
      expect(readFileSync(join(s.cache, '.clusterless-bootstrap-tools'), 'utf8')).toMatch(
        /\nsource=debian cloud-init 22\.4\.2 \(found unpacked in the cache\)\n$/,
      );
    });
  });

  it('the bootstrap tests run cloud-init and shellcheck from the per-user cache', () => {
    // Prepare: what the test workers resolve the tools to (global-setup puts the cache first on PATH).
    const which = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    // Assess
    for (const tool of ['cloud-init', 'shellcheck']) expect(which(tool), tool).toBe(join(bootstrapToolsBin(), tool));
  });

  it('npm run test:unit selects the unit projects, whose set-up starts no emulator, and every test file belongs to one project', async () => {
    // Prepare
    const root = join(import.meta.dirname, '..', '..');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const config = (await import('../../vitest.config.js')).default as {
      test: { projects: { test: { name: string; include: string[]; exclude?: string[]; globalSetup: string[] } }[] };
    };
    const projects = Object.fromEntries(config.test.projects.map((p) => [p.test.name, p.test]));
    // Assess
    expect(pkg.scripts['test:unit']).toBe('vitest run --project unit --project unit-isolated');
    expect(projects.unit!.include).toEqual(['test/unit/**/*.test.ts']);
    // A file of unit-isolated is left out of unit (which shares its processes), and is a unit test.
    for (const file of projects['unit-isolated']!.include) {
      expect(file.startsWith('test/unit/'), file).toBe(true);
      expect(projects.unit!.exclude, file).toContain(file);
    }
    for (const name of ['unit', 'unit-isolated']) expect(projects[name]!.globalSetup, name).toEqual(['test/support/tools-path.ts']);
    for (const name of ['infra', 'integration', 'alone']) expect(projects[name]!.globalSetup, name).toContain('test/support/global-setup.ts');
    // integration takes what no other project does.
    expect(projects.integration!.exclude).toEqual(expect.arrayContaining(['test/unit/**', ...projects.infra!.include, ...projects.alone!.include]));
    expect(pkg.scripts['test:integration']).toBe('vitest run --project infra --project integration --project alone');
    expect(readFileSync(join(root, 'test/support/tools-path.ts'), 'utf8')).not.toMatch(/moto|dynalite|spawn/);
  });

  it('no set-up script installs a system package: apt and dpkg only download, read private lists or unpack, and pip installs only into a venv', () => {
    const scripts = join(import.meta.dirname, '..', '..', 'scripts');
    const files = (readdirSync(scripts, { recursive: true }) as string[]).filter((f) => f.endsWith('.sh'));
    expect(files).toEqual(expect.arrayContaining(['setup-test-env.sh', 'setup-bootstrap-tools.sh', 'build-kube.sh', 'build-kubeadm.sh']));
    for (const file of files) expect(systemInstalls(readFileSync(join(scripts, file), 'utf8')), file).toEqual([]);
  });

  it.each([
    'sudo apt-get install -y cloud-init',
    'apt-get -q "${opts[@]}" install cloud-init',
    '"$APT" install cloud-init',
    'APT=apt-get',
    'apt install shellcheck',
    'apt-get -q update',
    'dpkg -i cloud-init.deb',
    'pip install moto',
    'python3 -m pip install --user moto',
    'echo ready; apt-get install -y python3-venv',
    'systemctl enable docker',
  ])('the scan of set-up scripts catches %s', (line) => {
    expect(systemInstalls(`#!/usr/bin/env bash\n${line}\n`)).not.toEqual([]);
  });

  it('the scan of set-up scripts lets through what only downloads, reads private lists, unpacks or installs into a venv', () => {
    const script = [
      'opts=(-o "Dir::State::Lists=$TOOLS/apt/lists" -o "Dir::Cache=$TOOLS/apt/cache")',
      'apt-get -q "${opts[@]}" update >/dev/null',
      '(cd "$work" && apt-get download -q "${opts[@]}" "cloud-init=$version")',
      'apt-cache "$@" madison cloud-init',
      'dpkg-deb -x "$deb" "$DEB_ROOT"',
      'dpkg-deb -f "$deb" Version',
      'for tool in python3 apt-get dpkg-deb; do',
      '  command -v apt-get >/dev/null',
      'done',
      '"$VENV/bin/python" -m pip install --quiet "moto[server]==$MOTO_VERSION"',
      'echo "setup: python3 -m venv failed (Debian/Ubuntu: apt-get install python3-venv)" >&2',
      '# apt-get install is what we never do',
    ].join('\n');
    expect(systemInstalls(script)).toEqual([]);
  });
});

/**
 * The lines of a shell script that would install or change system packages: any run of apt-get, apt, apt-cache,
 * dpkg or dpkg-deb that is not `apt-get download`, `apt-get update` into private lists (Dir::State::Lists, given
 * on the line or in an array the script fills with it), a read of the lists (`apt-cache madison|policy|show`) or
 * an unpacking or reading of a .deb (`dpkg[-deb] -x|-f`); any `install` but a venv's pip; sudo and its kind.
 * Quoted text is blanked first (messages may name what a person should install; a quoted variable or array is
 * still there, as ""), comments dropped, continuation lines joined.
 */
function systemInstalls(script: string): string[] {
  const raw = script.replace(/\\\n/g, ' ').split('\n');
  const privateArrays = raw.flatMap((l) => (/^\s*(\w+)=\(.*Dir::State::Lists=/.exec(l) ? [/^\s*(\w+)=/.exec(l)![1]!] : []));
  const tool = /(?<![\w$/.-])(apt-get|apt-cache|aptitude|apt|dpkg-deb|dpkg)(?![\w-])/g;
  const out: string[] = [];
  for (const line of raw) {
    const code = line.replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, '""').replace(/(^|\s)#.*$/, '');
    if (code.trim() === '') continue;
    const bad = (why: string) => out.push(`${why}: ${line.trim()}`);
    if (/(?<![\w-])(sudo|doas|su|systemctl|snap|brew|yum|dnf|apk|zypper|pacman)(?![\w-])/.test(code)) bad('a system tool');
    if (/(?<![\w-])install(?![\w-])/.test(code) && !/"\$\{?\w*VENV\}?\/bin\/(python3?" -m pip|pip3?") install(?![\w-])/.test(line))
      bad('an install outside a venv');
    if (/^\s*for\s+\w+\s+in\s/.test(code)) continue; // a list of names, not a command
    for (const m of code.matchAll(tool)) {
      if (/command\s+-v\s+$/.test(code.slice(0, m.index))) continue; // a presence check
      // The first word after the tool that is not an option, an option's value or a blanked quote.
      const words = code
        .slice(m.index + m[0].length)
        .trim()
        .split(/\s+/);
      let verb: string | undefined;
      for (let i = 0; i < words.length; i++) {
        const w = words[i]!;
        if (w === '-o') i++;
        else if (!w.startsWith('-') && w !== '""') {
          verb = w;
          break;
        } else if (m[1]!.startsWith('dpkg') && (w === '-x' || w === '-f' || w === '--extract' || w === '--field')) {
          verb = w;
          break;
        }
      }
      const name = m[1]!;
      const ok =
        (name === 'apt-get' && verb === 'download') ||
        (name === 'apt-get' && verb === 'update' && (line.includes('Dir::State::Lists=') || privateArrays.some((a) => line.includes(`\${${a}[@]}`)))) ||
        (name === 'apt-cache' && ['madison', 'policy', 'show'].includes(verb ?? '')) ||
        (name.startsWith('dpkg') && ['-x', '-f', '--extract', '--field'].includes(verb ?? ''));
      if (!ok) bad(`${name} ${verb ?? ''}`.trim());
    }
  }
  return out;
}
