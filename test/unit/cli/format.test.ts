import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { API_VERSION } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { kindByName } from '../../../functions/api/kinds.js';
import { columnsFor, jsonPathValue, rowOf } from '../../../cli/format/columns.js';
import { clusterTree, renderTree } from '../../../cli/format/describe.js';
import { elapsed, formatDuration, humanDuration, parseDuration } from '../../../cli/format/duration.js';
import { progressLine, rolloutProgress } from '../../../cli/format/progress.js';
import { renderTable } from '../../../cli/format/table.js';
import { colorEnabled, visibleLength } from '../../../cli/io.js';
import { UsageError } from '../../../cli/errors.js';
import { controlPlaneLabels, deploymentLabels, machine, readyCondition } from './fixtures.js';

const plain = pc.createColors(false);
const colored = pc.createColors(true);
const NOW = Date.parse('2026-01-01T12:00:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

describe('ages, as kubectl prints them', () => {
  it.each([
    { name: 'now', s: 0, want: '0s' },
    { name: 'a second of skew', s: -1, want: '0s' },
    { name: 'clock far behind', s: -5, want: '<invalid>' },
    { name: 'seconds', s: 5, want: '5s' },
    { name: 'under two minutes in seconds', s: 119, want: '119s' },
    { name: 'whole minutes', s: 120, want: '2m' },
    { name: 'minutes and seconds', s: 190, want: '3m10s' },
    { name: 'ten minutes and more drop seconds', s: 610, want: '10m' },
    { name: 'under three hours in minutes', s: 179 * 60, want: '179m' },
    { name: 'hours and minutes', s: 3 * 3600 + 5 * 60, want: '3h5m' },
    { name: 'whole hours', s: 4 * 3600, want: '4h' },
    { name: 'eight hours and more drop minutes', s: 8 * 3600 + 59 * 60, want: '8h' },
    { name: 'days and hours', s: 2 * 86400 + 4 * 3600, want: '2d4h' },
    { name: 'whole days', s: 3 * 86400, want: '3d' },
    { name: 'a week and more in days', s: 9 * 86400 + 3600, want: '9d' },
    { name: 'years and days', s: (2 * 365 + 10) * 86400, want: '2y10d' },
    { name: 'years', s: 9 * 365 * 86400, want: '9y' },
  ])('$name: $want', ({ s, want }) => {
    expect(humanDuration(s * 1000)).toBe(want);
  });

  it('prints elapsed time with fixed-width seconds and minutes', () => {
    expect([elapsed(7_000), elapsed(65_000), elapsed(3_723_000)]).toEqual(['7s', '1m05s', '1h02m03s']);
  });

  it('repeats a duration the user gave in its own terms', () => {
    expect([formatDuration(300), formatDuration(5_000), formatDuration(90_000), formatDuration(120_000), formatDuration(3_600_000)]).toEqual([
      '300ms',
      '5s',
      '1m30s',
      '2m',
      '1h',
    ]);
  });

  it.each([
    { text: '30s', ms: 30_000 },
    { text: '1h30m', ms: 5_400_000 },
    { text: '500ms', ms: 500 },
    { text: '90', ms: 90_000 },
    { text: '0', ms: 0 },
  ])('parses the duration $text', ({ text, ms }) => {
    expect(parseDuration(text, '--timeout')).toBe(ms);
  });

  it('refuses a duration it cannot read, naming the flag', () => {
    expect(() => parseDuration('soon', '--timeout')).toThrow(UsageError);
    expect(() => parseDuration('soon', '--timeout')).toThrow(/--timeout/);
  });
});

describe('tables', () => {
  it('pads columns like kubectl: three spaces after the widest cell, none after the last', () => {
    const out = renderTable(
      ['NAME', 'PHASE'],
      [
        ['a-long-name', 'Running'],
        ['b', 'Pending'],
      ],
    );
    expect(out).toBe('NAME          PHASE\na-long-name   Running\nb             Pending\n');
  });

  it('gives short columns the minimum width of kubectl (6)', () => {
    expect(renderTable(['A', 'B'], [['x', 'y']])).toBe('A     B\nx     y\n');
  });

  it('aligns by visible width when cells are coloured', () => {
    const out = renderTable(
      ['PHASE', 'AGE'],
      [
        [colored.green('Running'), '5s'],
        ['Failed', '6s'],
      ],
    );
    const lines = out.trimEnd().split('\n');
    expect(lines[1]).toContain('\u001b[');
    expect(lines.map((l) => visibleLength(l))).toEqual([13, 12, 12]);
    expect(lines.map((l) => visibleLength(l.slice(0, l.lastIndexOf(' ') + 1)))).toEqual([10, 10, 10]);
  });
});

describe('colours', () => {
  it.each([
    { name: 'a terminal', tty: true, env: {}, want: true },
    { name: 'a pipe', tty: false, env: {}, want: false },
    { name: 'a terminal with NO_COLOR=1', tty: true, env: { NO_COLOR: '1' }, want: false },
    { name: 'a terminal with NO_COLOR empty (unset per no-color.org)', tty: true, env: { NO_COLOR: '' }, want: true },
  ])('$name: $want', ({ tty, env, want }) => {
    expect(colorEnabled({ write: () => {}, isTTY: tty }, env)).toBe(want);
  });
});

describe('kind columns', () => {
  const def = kindByName('Machine')!;
  const m: ApiObject = {
    ...machine('demo-md-0-abc-x1', { labels: deploymentLabels('demo', 'demo-md-0') }),
    metadata: { name: 'demo-md-0-abc-x1', namespace: 'team-a', creationTimestamp: ago(190) },
    status: { phase: 'Running', nodeRef: { name: 'node-1' } },
  };

  it('prints machines as NAME CLUSTER NODE PHASE VERSION AGE', () => {
    const cols = columnsFor(def);
    expect(cols.map((c) => c.header)).toEqual(['NAME', 'CLUSTER', 'NODE', 'PHASE', 'VERSION', 'AGE']);
    expect(rowOf(cols, m, NOW, plain)).toEqual(['demo-md-0-abc-x1', 'demo', 'node-1', 'Running', 'v1.31.2', '3m10s']);
  });

  it('adds the priority-1 columns with -o wide and NAMESPACE with -A', () => {
    expect(columnsFor(def, { wide: true, allNamespaces: true }).map((c) => c.header)).toEqual([
      'NAMESPACE',
      'NAME',
      'CLUSTER',
      'NODE',
      'PHASE',
      'VERSION',
      'AGE',
      'PROVIDERID',
    ]);
  });

  it('prints <none> for a value the object does not have yet', () => {
    const fresh = { ...m, status: {} };
    expect(rowOf(columnsFor(def), fresh, NOW, plain)).toEqual(['demo-md-0-abc-x1', 'demo', '<none>', '<none>', 'v1.31.2', '3m10s']);
  });

  it('colours the phase only when colours are on', () => {
    expect(rowOf(columnsFor(def), m, NOW, colored)[3]).toBe(colored.green('Running'));
    expect(rowOf(columnsFor(def), m, NOW, plain)[3]).toBe('Running');
  });

  it('reads list elements in printer column paths', () => {
    expect(jsonPathValue({ spec: { aws: { instanceTypes: ['m7g.large', 'm6g.large'] } } }, '.spec.aws.instanceTypes[0]')).toBe('m7g.large');
    expect(jsonPathValue({ spec: {} }, '.spec.aws.instanceTypes[0]')).toBeUndefined();
  });
});

describe('describe cluster tree', () => {
  const obj = (kind: string, name: string, extra: Partial<ApiObject> = {}): ApiObject => ({
    apiVersion: API_VERSION,
    kind,
    metadata: { name, namespace: 'default' },
    spec: { clusterName: 'demo' },
    ...extra,
  });
  const withReady = (o: ApiObject, c: ReturnType<typeof readyCondition>): ApiObject => ({ ...o, status: { conditions: [c] } });
  const graph = {
    cluster: withReady(
      obj('Cluster', 'demo', { spec: {} }),
      readyCondition('False', ago(120), { reason: 'WaitingForWorkers', severity: 'Info', message: 'workers are not available' }),
    ),
    controlPlanes: [withReady(obj('ControlPlane', 'demo-control-plane'), readyCondition('True', ago(300)))],
    machineDeployments: [
      withReady(
        obj('MachineDeployment', 'demo-md-0'),
        readyCondition('False', ago(60), { reason: 'RollingOut', severity: 'Warning', message: '1 of 2 updated' }),
      ),
    ],
    machines: [
      withReady(
        machine('demo-md-0-b', { labels: deploymentLabels('demo', 'demo-md-0') }),
        readyCondition('False', ago(30), { reason: 'NodeNotReady', severity: 'Error', message: 'node is\nnot ready' }),
      ),
      withReady(machine('demo-control-plane-a', { labels: controlPlaneLabels('demo', 'demo-control-plane') }), readyCondition('True', ago(290))),
      withReady(machine('demo-md-0-a', { labels: deploymentLabels('demo', 'demo-md-0') }), readyCondition('True', ago(200))),
      { ...machine('stray'), status: { phase: 'Provisioning' } },
    ],
  };

  it('nests control-plane machines under the control plane and worker machines under their deployment, like clusterctl', () => {
    expect(renderTree(clusterTree(graph), NOW, plain)).toBe(
      [
        'NAME                               READY  SEVERITY  REASON             SINCE  MESSAGE',
        'Cluster/demo                       False  Info      WaitingForWorkers  2m     workers are not available',
        '├─ControlPlane/demo-control-plane  True                                5m',
        '│ └─Machine/demo-control-plane-a   True                                4m50s',
        '└─Workers',
        '  ├─MachineDeployment/demo-md-0    False  Warning   RollingOut         60s    1 of 2 updated',
        '  │ ├─Machine/demo-md-0-a          True                                3m20s',
        '  │ └─Machine/demo-md-0-b          False  Error     NodeNotReady       30s    node is not ready',
        '  └─Machine/stray                                                             phase Provisioning',
        '',
      ].join('\n'),
    );
  });

  it('colours READY by status and severity on a terminal', () => {
    const out = renderTree(clusterTree(graph), NOW, colored);
    expect(out).toContain(colored.green('True'));
    expect(out).toContain(colored.red('False'));
    expect(out).toContain(colored.yellow('False'));
  });
});

describe('rollout progress', () => {
  const md = (spec: { replicas: number; paused?: boolean }, generation: number, status: Record<string, number>): ApiObject => ({
    apiVersion: API_VERSION,
    kind: 'MachineDeployment',
    metadata: { name: 'md', namespace: 'default', generation },
    spec,
    status,
  });
  const what = 'machinedeployment "md"';

  it.each([
    {
      name: 'spec not observed',
      obj: md({ replicas: 3 }, 2, { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
      done: false,
      msg: 'spec update to be observed',
    },
    {
      name: 'updating',
      obj: md({ replicas: 3 }, 2, { observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3 }),
      done: false,
      msg: '1 out of 3 new replicas have been updated',
    },
    {
      name: 'old ones terminating',
      obj: md({ replicas: 3 }, 2, { observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 }),
      done: false,
      msg: '1 old replicas are pending termination',
    },
    {
      name: 'not yet available',
      obj: md({ replicas: 3 }, 2, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 }),
      done: false,
      msg: '2 of 3 updated replicas are available',
    },
    {
      name: 'done',
      obj: md({ replicas: 3 }, 2, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
      done: true,
      msg: 'machinedeployment "md" successfully rolled out',
    },
    { name: 'scaled to zero', obj: md({ replicas: 0 }, 3, { observedGeneration: 3 }), done: true, msg: 'successfully rolled out' },
  ])('$name', ({ obj, done, msg }) => {
    const p = rolloutProgress(obj, what);
    expect(p.done).toBe(done);
    expect(p.message).toContain(msg);
  });

  it('says a paused deployment is paused while waiting', () => {
    const p = rolloutProgress(md({ replicas: 3, paused: true }, 2, { observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 3 }), what);
    expect(p.message).toMatch(/paused/);
  });

  it('counts ready replicas as available for a control plane', () => {
    const cp: ApiObject = {
      apiVersion: API_VERSION,
      kind: 'ControlPlane',
      metadata: { name: 'cp', namespace: 'default', generation: 1 },
      spec: { replicas: 3 },
      status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3 },
    };
    expect(rolloutProgress(cp, 'controlplane "cp"').done).toBe(true);
  });

  it('draws a bar, the counts and the elapsed time on one line', () => {
    const p = rolloutProgress(md({ replicas: 4 }, 2, { observedGeneration: 2, replicas: 5, updatedReplicas: 2, availableReplicas: 4 }), what);
    const line = progressLine(p, 65_000, plain, 200);
    expect(line).toBe(`[${'█'.repeat(12)}${'░'.repeat(12)}] 2/4 updated, 4/4 available  1m05s  2 out of 4 new replicas have been updated`);
  });

  it('takes a common width when the terminal reports none', () => {
    const p = rolloutProgress(md({ replicas: 4 }, 2, { observedGeneration: 2, replicas: 5, updatedReplicas: 2, availableReplicas: 4 }), what);
    expect(progressLine(p, 1000, plain, 0)).toMatch(/ 1s  2 out of 4 new replicas/);
  });

  it('cuts the line to the terminal width', () => {
    const p = rolloutProgress(md({ replicas: 4 }, 2, { observedGeneration: 2, replicas: 5, updatedReplicas: 2, availableReplicas: 4 }), what);
    expect(progressLine(p, 1000, plain, 70).length).toBeLessThanOrEqual(70);
  });
});
