/**
 * The Workflows contract: one suite for every engine that starts the state machines (the embedded host's
 * LocalWorkflows, Step Functions through SfnWorkflows on moto_server), so that the deterministic execution names
 * the workflows rely on (ARCHITECTURE.md, "Execution names") mean the same on both hosts. Like hono's
 * `common.case.test.ts`.
 *
 * Step Functions' rules for a Standard workflow's StartExecution (API reference, StartExecution `name`): a name
 * is 1 to 80 characters with no whitespace, brackets, wildcards, `" # % \ ^ | ~ ` $ & , ; : /` or control
 * characters; the same name and input as a running execution is accepted and starts nothing new; another input,
 * or a name whose execution has ended, is ExecutionAlreadyExists (`started: false` on the port).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkflowName, Workflows } from '../../functions/ports.js';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface WorkflowsHarness {
  workflows: Workflows;
  /** The statuses of the executions of that name the engine knows of, oldest first ([] when none). */
  executions(workflow: WorkflowName, name: string): Promise<ExecutionStatus[]>;
  /**
   * Ends the running execution of that name (it runs to its end, or is stopped where the engine runs nothing), and
   * returns once the engine reports it ended.
   */
  end(workflow: WorkflowName, name: string): Promise<void>;
  /**
   * What the engine does with a name Step Functions refuses (longer than 80 characters, or a character outside
   * its set): `refused`, the start throws and nothing starts; or `accepted`, it starts like any other.
   */
  invalidNames: 'refused' | 'accepted';
  /**
   * What a repeated name of the Express reconcile-cluster does: `starts-again` (Step Functions Express keeps no
   * names: each StartExecution is a new execution), or `refused` like a Standard workflow's.
   */
  repeatedExpressNames: 'starts-again' | 'refused';
  /** Releases whatever the harness holds (executions kept running for the tests). */
  close(): Promise<void>;
}

export type WorkflowsSetup = () => Promise<WorkflowsHarness>;

/** A name no other case uses (the engines outlive a case, moto_server outlives a file). */
function newName(prefix = 'provision'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/**
 * A provision-machine input. Harnesses that hold executions running key them by `machineUid`, which the
 * contract sets to the execution name.
 */
export function provisionInput(name: string, clusterName = 'c1'): Record<string, unknown> {
  return { namespace: 'default', clusterName, machineName: name, machineUid: name };
}

/** Names Step Functions refuses, with why. */
const INVALID_NAMES = [
  { why: 'longer than 80 characters', name: () => `p-${'a'.repeat(79)}` },
  { why: 'holding a colon (as an RFC 3339 time does)', name: () => `${newName('remediate')}-2026-03-01T12:00:05Z` },
  { why: 'holding a slash', name: () => `${newName()}/x` },
  { why: 'holding whitespace', name: () => `${newName()} x` },
  { why: 'holding a hash', name: () => `${newName()}#1` },
];

export function runWorkflowsContract(engine: string, setup: WorkflowsSetup): void {
  describe(`Workflows contract: ${engine}`, () => {
    let harness: WorkflowsHarness | undefined;
    const open = async () => {
      harness = await setup();
      return harness;
    };
    afterEach(async () => {
      await harness?.close();
      harness = undefined;
    });

    it('starts an execution by its name', async () => {
      // Prepare
      const h = await open();
      const name = newName();
      // Act
      const result = await h.workflows.start('provision-machine', name, provisionInput(name));
      // Assess
      expect(result).toEqual({ started: true });
      expect(await h.executions('provision-machine', name)).toEqual(['RUNNING']);
    });

    it('accepts a repeated start with the same name and input while the execution runs, and starts nothing new', async () => {
      // Prepare
      const h = await open();
      const name = newName();
      await h.workflows.start('provision-machine', name, provisionInput(name));
      // Act
      const again = await h.workflows.start('provision-machine', name, provisionInput(name));
      // Assess
      expect(again).toEqual({ started: true });
      expect(await h.executions('provision-machine', name)).toEqual(['RUNNING']);
    });

    it('refuses a start with the name of a running execution and another input (ExecutionAlreadyExists)', async () => {
      // Prepare
      const h = await open();
      const name = newName();
      await h.workflows.start('provision-machine', name, provisionInput(name, 'c1'));
      // Act
      const other = await h.workflows.start('provision-machine', name, provisionInput(name, 'c2'));
      // Assess
      expect(other).toEqual({ started: false });
      expect(await h.executions('provision-machine', name)).toEqual(['RUNNING']);
    });

    it('refuses the name of an execution that has ended, whatever the input (ExecutionAlreadyExists)', async () => {
      // Prepare
      const h = await open();
      const name = newName();
      await h.workflows.start('provision-machine', name, provisionInput(name));
      await h.end('provision-machine', name);
      // Act
      const again = await h.workflows.start('provision-machine', name, provisionInput(name));
      // Assess
      expect(again).toEqual({ started: false });
      expect(await h.executions('provision-machine', name)).toHaveLength(1);
      expect((await h.executions('provision-machine', name))[0]).not.toBe('RUNNING');
    });

    it('keeps names per workflow: one name may run in two state machines', async () => {
      // Prepare
      const h = await open();
      const name = newName('shared');
      await h.workflows.start('provision-machine', name, provisionInput(name));
      // Act
      const other = await h.workflows.start('remediate', name, {
        namespace: 'default',
        clusterName: 'c1',
        healthCheckName: 'mhc',
        machineName: name,
        machineUid: name,
        markedAt: '',
      });
      // Assess
      expect(other).toEqual({ started: true });
      expect(await h.executions('remediate', name)).toEqual(['RUNNING']);
    });

    it('accepts a name of 80 characters of letters, digits, - and _', async () => {
      // Prepare
      const h = await open();
      const name = `${newName()}_`.padEnd(80, 'Z9-');
      // Act
      const result = await h.workflows.start('provision-machine', name, provisionInput(name));
      // Assess
      expect(name).toHaveLength(80);
      expect(result).toEqual({ started: true });
      expect(await h.executions('provision-machine', name)).toEqual(['RUNNING']);
    });

    it.each(INVALID_NAMES)('does with a name $why what its invalidNames option says', async ({ name: make }) => {
      // Prepare
      const h = await open();
      const name = make();
      // Act
      const result = h.workflows.start('provision-machine', name, provisionInput(name));
      // Assess
      if (h.invalidNames === 'refused') {
        await expect(result).rejects.toThrow();
        expect(await h.executions('provision-machine', name)).toEqual([]);
      } else {
        await expect(result).resolves.toEqual({ started: true });
        expect(await h.executions('provision-machine', name)).toEqual(['RUNNING']);
      }
    });

    it('does with a repeated name of the Express reconcile-cluster what its repeatedExpressNames option says', async () => {
      // Prepare
      const h = await open();
      const name = newName('reconcile');
      const input = { namespace: 'default', clusterName: 'c1', trigger: 'contract' };
      await h.workflows.start('reconcile-cluster', name, input);
      await h.end('reconcile-cluster', name);
      // Act
      const again = await h.workflows.start('reconcile-cluster', name, input);
      // Assess
      expect(again).toEqual({ started: h.repeatedExpressNames === 'starts-again' });
      if (h.repeatedExpressNames === 'refused') expect(await h.executions('reconcile-cluster', name)).toHaveLength(1);
    });
  });
}
