/**
 * `clusterless fleet status|pause|resume|abort NAME`, added to the program by one line of cli/program.ts; `action`
 * gives each handler its context. The handlers (fleet.ts) are imported when a command runs.
 */
import { type Command, Option } from 'commander';
import type { Context } from '../context.js';
import type { FleetOptions } from './fleet.js';

type Handler<A extends unknown[]> = (ctx: Context, ...args: A) => Promise<void>;

export function registerFleetCommands(program: Command, action: <A extends unknown[]>(fn: Handler<A>) => (...args: unknown[]) => Promise<void>): void {
  const namespace = () => new Option('-n, --namespace <namespace>', 'namespace of the FleetUpgrade (default: default)');
  const fleet = program.command('fleet').description('follow and steer a FleetUpgrade (fleet-wide upgrade waves)');
  fleet
    .command('status')
    .description('the waves and clusters of a fleet upgrade: done, in flight, failed, skipped')
    .argument('<name>')
    .addOption(namespace())
    .action(action((ctx, name: string, options: FleetOptions) => import('./fleet.js').then((m) => m.fleetStatus(ctx, name, options))));
  for (const [verb, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const)
    fleet
      .command(verb)
      .description(paused ? 'start no new wave or cluster (spec.paused); clusters in flight finish' : 'let a paused fleet upgrade continue')
      .argument('<name>')
      .addOption(namespace())
      .action(action((ctx, name: string, options: FleetOptions) => import('./fleet.js').then((m) => m.fleetPause(ctx, name, paused, options))));
  fleet
    .command('abort')
    .description('stop a fleet upgrade for good (spec.abort): upgraded clusters stay, no further cluster is touched')
    .argument('<name>')
    .addOption(namespace())
    .action(action((ctx, name: string, options: FleetOptions) => import('./fleet.js').then((m) => m.fleetAbort(ctx, name, options))));
}
