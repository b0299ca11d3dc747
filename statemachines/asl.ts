/**
 * The part of the Amazon States Language (JSONPath) the definitions of statemachines/ use, as TypeScript data,
 * and the placeholders the hosts substitute (statemachines/loader.ts). `npm run statemachines` writes each
 * definition as JSON in the order its fields are written here, so keep the order of fields when editing.
 */
import type { StateMachinePlaceholder, TaskFunctionPlaceholder } from './loader.js';

/** A Retry entry (States Language: Retrying after error). */
export interface Retrier {
  ErrorEquals: readonly string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxAttempts: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

/** A Catch entry: where the execution goes once the retriers gave up. */
export interface Catcher {
  ErrorEquals: readonly string[];
  ResultPath: string | null;
  Next: string;
}

/** A JSON value as Parameters take it (keys ending in `.$` are paths or intrinsic functions). */
export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

export interface TaskState {
  Type: 'Task';
  Comment?: string;
  Resource: string;
  Parameters: { readonly [key: string]: Json };
  ResultPath?: string | null;
  TimeoutSeconds?: number;
  Retry: readonly Retrier[];
  Catch?: readonly Catcher[];
  Next?: string;
  End?: true;
}

export interface ChoiceRule {
  Variable: string;
  IsPresent?: boolean;
  StringEquals?: string;
  BooleanEquals?: boolean;
  NumericGreaterThanEquals?: number;
  Next: string;
}

export interface ChoiceState {
  Type: 'Choice';
  Comment?: string;
  Choices: readonly ChoiceRule[];
  Default: string;
}

export interface PassState {
  Type: 'Pass';
  Comment?: string;
  Parameters: { readonly [key: string]: Json };
  ResultPath?: string;
  OutputPath?: string;
  Next: string;
}

export interface WaitState {
  Type: 'Wait';
  Comment?: string;
  Seconds?: number;
  TimestampPath?: string;
  Next: string;
}

/** An inline Map (Iterator: the local engine and asl-validator both take it). */
export interface MapState {
  Type: 'Map';
  Comment?: string;
  ItemsPath: string;
  MaxConcurrency: number;
  ResultPath: null;
  Next: string;
  Catch?: readonly Catcher[];
  Iterator: { StartAt: string; States: Readonly<Record<string, State>> };
}

/**
 * A Distributed Map over items of the state input (ItemProcessor in DISTRIBUTED mode: each item is a child
 * execution on Step Functions with its own history; the local engine runs the same ItemProcessor inline).
 */
export interface DistributedMapState {
  Type: 'Map';
  Comment?: string;
  ItemsPath: string;
  ItemSelector: { readonly [key: string]: Json };
  MaxConcurrencyPath: string;
  ItemProcessor: {
    ProcessorConfig: { Mode: 'DISTRIBUTED'; ExecutionType: 'STANDARD' };
    StartAt: string;
    States: Readonly<Record<string, State>>;
  };
  ResultPath: null;
  Catch?: readonly Catcher[];
  Next: string;
}

export interface SucceedState {
  Type: 'Succeed';
}

export interface FailState {
  Type: 'Fail';
  Error: string;
  Cause: string;
}

export type State = TaskState | ChoiceState | PassState | WaitState | MapState | DistributedMapState | SucceedState | FailState;

export interface StateMachineDefinition {
  Comment: string;
  StartAt: string;
  States: Readonly<Record<string, State>>;
}

/** A `${Placeholder}` the hosts substitute, checked against the loader's lists by the compiler. */
export const placeholder = (name: TaskFunctionPlaceholder | StateMachinePlaceholder): string => `\${${name}}`;

/** A Catch for every error. */
export const catchAll = (resultPath: string | null, next: string): Catcher => ({ ErrorEquals: ['States.ALL'], ResultPath: resultPath, Next: next });
