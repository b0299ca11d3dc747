/**
 * The one loader of statemachines/*.asl.json, shared by the CDK stack (infra/) and the embedded host
 * (local/): both run exactly these files, with their ${Placeholders} substituted.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowName } from '../functions/ports.js';

export interface StateMachineInfo {
  name: WorkflowName;
  /** Express for the short, frequent reconcile; Standard for anything that waits (DESIGN section 5). */
  type: 'STANDARD' | 'EXPRESS';
  file: string;
}

export const STATE_MACHINES: readonly StateMachineInfo[] = [
  { name: 'reconcile-cluster', type: 'EXPRESS', file: 'reconcile-cluster.asl.json' },
  { name: 'provision-machine', type: 'STANDARD', file: 'provision-machine.asl.json' },
  { name: 'rolling-upgrade', type: 'STANDARD', file: 'rolling-upgrade.asl.json' },
  { name: 'remediate', type: 'STANDARD', file: 'remediate.asl.json' },
  { name: 'delete-cluster', type: 'STANDARD', file: 'delete-cluster.asl.json' },
  { name: 'fleet-upgrade', type: 'STANDARD', file: 'fleet-upgrade.asl.json' },
];

/** The Lambda task functions the state machines call, by placeholder. */
export const TASK_FUNCTIONS = {
  ReconcileTaskFunctionArn: 'reconcile',
  ProvisionTaskFunctionArn: 'provision',
  RolloutTaskFunctionArn: 'rollout',
  RemediateTaskFunctionArn: 'remediate',
  TeardownTaskFunctionArn: 'teardown',
  FleetUpgradeTaskFunctionArn: 'fleet-upgrade',
} as const;
export type TaskFunctionPlaceholder = keyof typeof TASK_FUNCTIONS;
export type TaskFunctionName = (typeof TASK_FUNCTIONS)[TaskFunctionPlaceholder];

/** The child state machines started by ARN, by placeholder. */
export const STATE_MACHINE_PLACEHOLDERS = {
  ProvisionMachineStateMachineArn: 'provision-machine',
  RollingUpgradeStateMachineArn: 'rolling-upgrade',
  RemediateStateMachineArn: 'remediate',
  DeleteClusterStateMachineArn: 'delete-cluster',
} as const satisfies Record<string, WorkflowName>;
export type StateMachinePlaceholder = keyof typeof STATE_MACHINE_PLACEHOLDERS;

export type Substitutions = Record<TaskFunctionPlaceholder | StateMachinePlaceholder, string>;

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;
const DIR = dirname(fileURLToPath(import.meta.url));

export function stateMachineInfo(name: WorkflowName): StateMachineInfo {
  const info = STATE_MACHINES.find((s) => s.name === name);
  if (!info) throw new Error(`unknown state machine ${name}`);
  return info;
}

/** The file's text, placeholders untouched (what CDK's DefinitionBody.fromString gets with definitionSubstitutions). */
export function readDefinitionText(name: WorkflowName): string {
  return readFileSync(join(DIR, stateMachineInfo(name).file), 'utf8');
}

/** The placeholders a definition uses. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))].sort();
}

export class MissingSubstitutionError extends Error {
  override name = 'MissingSubstitutionError';
}

/** Substitutes every placeholder; a placeholder without a value is an error, never left in. */
export function substitute(text: string, substitutions: Partial<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (_m, key: string) => {
    const value = substitutions[key];
    if (value === undefined) throw new MissingSubstitutionError(`no substitution for \${${key}}`);
    // Values land inside JSON strings: escape them as JSON would.
    return JSON.stringify(value).slice(1, -1);
  });
}

/** The definition, parsed, with placeholders substituted. */
export function loadDefinition(name: WorkflowName, substitutions: Partial<Record<string, string>>): Record<string, unknown> {
  return JSON.parse(substitute(readDefinitionText(name), substitutions)) as Record<string, unknown>;
}
