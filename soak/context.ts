/**
 * Who is writing: the soak tags every API call and every task invocation, so that the watchers can tell a
 * user's deletion from a rollout's, and a remediation's from both, without the control plane telling them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { TaskFunctionName } from '../statemachines/loader.js';

export interface WriteContext {
  actor: 'api' | 'task';
  task?: TaskFunctionName;
  step?: string;
  /** Wall-clock milliseconds when the API call or the task invocation began. */
  startedAt: number;
}

const storage = new AsyncLocalStorage<WriteContext>();

export function withContext<T>(ctx: WriteContext, run: () => Promise<T>): Promise<T> {
  return storage.run(ctx, run);
}

/** The API call or task this code runs in; undefined for the soak's own reads and faults. */
export function currentContext(): WriteContext | undefined {
  return storage.getStore();
}
