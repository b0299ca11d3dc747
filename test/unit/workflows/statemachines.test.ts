import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { renderStateMachineFiles, staleStateMachineFiles } from '../../../scripts/generate-statemachines.js';
import { localSubstitutions } from '../../../functions/adapters/stepfunctions/local-workflows.js';
import type { WorkflowName } from '../../../functions/ports.js';
import {
  MissingSubstitutionError,
  STATE_MACHINES,
  STATE_MACHINE_PLACEHOLDERS,
  TASK_FUNCTIONS,
  loadDefinition,
  placeholdersOf,
  readDefinitionText,
  substitute,
} from '../../../statemachines/loader.js';

type State = Record<string, unknown> & { Type: string; Retry?: Record<string, unknown>[]; Catch?: unknown[]; States?: unknown };

function statesOf(def: { States?: Record<string, State> }): [string, State][] {
  return Object.entries(def.States ?? {}).flatMap(([name, s]) => {
    const nested = (s.ItemProcessor ?? s.Iterator) as { States?: Record<string, State> } | undefined;
    return [[name, s] as [string, State], ...(nested ? statesOf(nested) : [])];
  });
}

const KNOWN = new Set([...Object.keys(TASK_FUNCTIONS), ...Object.keys(STATE_MACHINE_PLACEHOLDERS)]);

describe.each(STATE_MACHINES.map((s) => ({ ...s })))('$name', ({ name }) => {
  const text = readDefinitionText(name);
  const definition = loadDefinition(name, localSubstitutions()) as { States?: Record<string, State> };

  it('passes asl-validator after substitution', () => {
    const result = aslValidator(definition as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('uses only placeholders the hosts substitute, and leaves none behind', () => {
    expect(placeholdersOf(text).filter((p) => !KNOWN.has(p))).toEqual([]);
    expect(JSON.stringify(definition)).not.toMatch(/\$\{/);
  });

  it('is JSONPath, not JSONata (the local engine and moto ignore JSONata)', () => {
    expect(text).not.toMatch(/"QueryLanguage"\s*:\s*"JSONata"|\{%/);
  });

  it('retries transient errors with full jitter and a delay cap, and catches the rest into a recorded failure', () => {
    const tasks = statesOf(definition).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(0);
    for (const [stateName, task] of tasks) {
      const retriers = (task.Retry ?? []).filter((r) => (r.MaxAttempts as number | undefined) !== 0);
      expect(retriers.length, `${stateName} has no Retry`).toBeGreaterThan(0);
      for (const r of retriers) {
        expect(r.JitterStrategy, `${stateName}`).toBe('FULL');
        expect(r.MaxDelaySeconds, `${stateName}`).toBeGreaterThan(0);
      }
      // RecordFailure is where the catches lead; it ends in a Fail state of its own.
      if (stateName === 'RecordFailure') expect(definition.States?.[String(task.Next)]?.Type).toBe('Fail');
      else expect(task.Catch, `${stateName} has no Catch`).toBeDefined();
    }
  });

  it('bounds every loop with a counter or a terminal Choice', () => {
    const waits = statesOf(definition).filter(([, s]) => s.Type === 'Wait');
    for (const [, w] of waits) expect(w.TimestampPath ?? w.Seconds ?? w.SecondsPath).toBeDefined();
    if (['rolling-upgrade', 'remediate', 'delete-cluster'].includes(name)) {
      expect(text).toContain('States.MathAdd($.loop.iteration, 1)');
      expect(text).toContain('"ContinueAsNew"');
    }
  });
});

describe('statemachines/*.asl.json', () => {
  it('is what `npm run statemachines` writes from statemachines/definitions.ts (run it after changing a definition)', () => {
    expect(staleStateMachineFiles(), 'statemachines/ is stale: run npm run statemachines').toEqual([]);
  });

  it('is found stale when a file differs from its definition or is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'statemachines-'));
    try {
      for (const [file, text] of renderStateMachineFiles()) writeFileSync(join(dir, file), text);
      expect(staleStateMachineFiles(dir)).toEqual([]);
      // A hand edit: the same definition written another way is stale too, so the diff of a regeneration is empty.
      writeFileSync(join(dir, 'remediate.asl.json'), JSON.stringify(JSON.parse(renderStateMachineFiles().get('remediate.asl.json')!)));
      rmSync(join(dir, 'delete-cluster.asl.json'));
      expect(staleStateMachineFiles(dir)).toEqual(['delete-cluster.asl.json', 'remediate.asl.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the stepping workflows', () => {
  it('share one loop (states, retries, catches, waits), differing only in their task, their input fields and the defaults of these', () => {
    // Hand copies drift: what one of them learns (a Catch, a backoff) the others must have too.
    const ownFields = ['deploymentName', 'revision', 'generation', 'healthCheckName', 'machineName', 'machineUid', 'markedAt'].map((f) => `${f}.$`);
    const loopOf = (name: WorkflowName) => {
      const text = readDefinitionText(name)
        .replace(/\$\{(Rollout|Remediate|Teardown)TaskFunctionArn\}/g, '${TaskFunctionArn}')
        .replace(/"(rolloutStep|remediateStep|teardownStep)"/g, '"ownStep"');
      const def = JSON.parse(text, (key, value) =>
        value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).filter(([k]) => !ownFields.includes(k))) : value,
      ) as { Comment?: string; States: { Init: { Parameters: Record<string, unknown> } } };
      delete def.Comment;
      def.States.Init.Parameters.defaults = 'own';
      return def;
    };
    expect(loopOf('remediate')).toEqual(loopOf('rolling-upgrade'));
    expect(loopOf('delete-cluster')).toEqual(loopOf('rolling-upgrade'));
  });

  it.each(['rolling-upgrade', 'remediate', 'delete-cluster'] as const)(
    '%s retries no LeaseHeldError: its task waits for the lease itself and never throws it',
    (name) => {
      const def = loadDefinition(name, localSubstitutions()) as { States?: Record<string, State> };
      const retried = statesOf(def).flatMap(([, s]) => (s.Retry ?? []).flatMap((r) => r.ErrorEquals as string[]));
      expect(retried).not.toContain('LeaseHeldError');
      expect(retried).toContain('ConflictError');
    },
  );
});

describe('loader', () => {
  it('refuses to leave a placeholder without a value', () => {
    expect(() => substitute('{"Resource":"${Nope}"}', {})).toThrow(MissingSubstitutionError);
  });

  it('escapes values as JSON strings', () => {
    expect(JSON.parse(substitute('{"a":"${X}"}', { X: 'say "hi"' }))).toEqual({ a: 'say "hi"' });
  });

  it('types each state machine as DESIGN section 5 says: reconcile Express, the rest Standard', () => {
    expect(Object.fromEntries(STATE_MACHINES.map((s) => [s.name, s.type]))).toEqual({
      'reconcile-cluster': 'EXPRESS',
      'provision-machine': 'STANDARD',
      'rolling-upgrade': 'STANDARD',
      remediate: 'STANDARD',
      'delete-cluster': 'STANDARD',
      'fleet-upgrade': 'STANDARD',
    });
  });
});
