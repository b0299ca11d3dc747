/**
 * Drives the planners against a World step by step, checks an invariant on every plan, and writes a log that
 * golden files pin down (UPDATE_GOLDEN=1 rewrites them).
 */
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect } from 'vitest';
import type { Machine } from '../../../../functions/api/machine.js';
import type { Plan } from '../../../../functions/core/plan.js';
import { GONE_STATES } from '../../../../functions/core/machine/facts.js';
import type { World } from './world.js';

export interface RunOptions {
  maxSteps: number;
  /** Seconds between reconciles, drawn from the world's seeded generator. */
  stepSeconds?: [number, number];
  done?: (world: World) => boolean;
  /** Called with every plan before it is applied (invariants). */
  check?: (plan: Plan, world: World) => void;
  /** World events between reconciles (faults, user edits); returns what to log. */
  events?: (world: World, step: number) => string[];
}

export interface RunResult {
  steps: number;
  done: boolean;
}

/** Runs reconciles until `done` holds (checked before each reconcile) or the steps run out. */
export function run(world: World, opts: RunOptions, start: Date): RunResult {
  let previous = new Set<string>();
  const [lo, hi] = opts.stepSeconds ?? [5, 30];
  for (let step = 0; step < opts.maxSteps; step++) {
    for (const e of opts.events?.(world, step) ?? []) world.log.push(`${clock(world, start)} ! ${e}`);
    if (opts.done?.(world)) return { steps: step, done: true };
    const plan = world.plan();
    opts.check?.(plan, world);
    world.apply(plan);
    // Notes repeated from the step before (a wait that goes on) are logged once.
    const notes = new Set(plan.notes);
    for (const n of plan.notes) if (!previous.has(n)) world.log.push(`${clock(world, start)} ${n}`);
    previous = notes;
    world.advance(lo + Math.round(world.random() * (hi - lo)));
  }
  return { steps: opts.maxSteps, done: opts.done?.(world) ?? false };
}

function clock(world: World, start: Date): string {
  return `t+${String(Math.round((world.now.getTime() - start.getTime()) / 1000)).padStart(5, '0')}s`;
}

/** The world's etcd as an outside observer counts it: members are control-plane machines with a live instance and a node. */
export function etcdOf(world: World): { members: Machine[]; healthy: Set<string> } {
  const members = world.controlPlaneMachines().filter((m) => {
    const i = world.instanceOf(m);
    return i !== undefined && !GONE_STATES.includes(i.state) && world.nodeOf(m) !== undefined;
  });
  const healthy = new Set(
    members.filter((m) => world.nodeOf(m)?.conditions.some((c) => c.type === 'Ready' && c.status === 'True')).map((m) => m.metadata.name),
  );
  return { members, healthy };
}

/**
 * The quorum invariant, checked on every plan: whenever the planner starts removing a control-plane machine
 * (Delete, or RemediateMachine), the members left once every removal under way is done must have a healthy
 * majority. Joining machines (a live instance, no node yet) count as unhealthy members, as etcd may already
 * list them. Only an etcd that has members is protected: the first machine of a new control plane has none.
 */
export function checkQuorum(plan: Plan, world: World): void {
  const removed = new Set<string>([
    ...plan.writes.flatMap((w) => (w.type === 'Delete' && w.ref.kind === 'Machine' ? [w.ref.name] : [])),
    ...plan.actions.flatMap((a) => (a.type === 'RemediateMachine' ? [a.machine.name] : [])),
  ]);
  const cp = world.controlPlaneMachines();
  if (![...removed].some((n) => cp.some((m) => m.metadata.name === n))) return;
  const { members, healthy } = etcdOf(world);
  if (members.length === 0) return;
  const joining = cp.filter((m) => {
    const i = world.instanceOf(m);
    return i !== undefined && !GONE_STATES.includes(i.state) && world.nodeOf(m) === undefined && !m.metadata.deletionTimestamp;
  });
  const remaining = [...members, ...joining].filter((m) => !removed.has(m.metadata.name) && !m.metadata.deletionTimestamp);
  const healthyRemaining = remaining.filter((m) => healthy.has(m.metadata.name)).length;
  expect(
    healthyRemaining,
    `removing ${[...removed].join(', ')} at ${world.now.toISOString()} leaves ${healthyRemaining} healthy of ${remaining.length}`,
  ).toBeGreaterThanOrEqual(Math.floor(remaining.length / 2) + 1);
}

/** Compares a log with its golden file; UPDATE_GOLDEN=1 writes the file instead. */
export function expectGolden(path: string, log: readonly string[]): void {
  const text = `${log.join('\n')}\n`;
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  if (!existsSync(path)) throw new Error(`golden file ${path} is missing: run the test with UPDATE_GOLDEN=1 and review it`);
  expect(text).toBe(readFileSync(path, 'utf8'));
}
