/**
 * vitest globalSetup of the projects that talk to AWS: one moto_server per worker of the project (two: the projects
 * run two files at a time), their endpoints provided as `inject('motoEndpoints')`; a file reaches its worker's through
 * `motoEndpoint()` (moto-endpoint.ts says why one each). Files that share one isolate themselves by unique names
 * (uniqueName in aws.ts) rather than resetting it. dynalite is started per file (dynalite.ts). The unit projects do not
 * use this, so `npm run test:unit` starts no emulator.
 */
import type { TestProject } from 'vitest/node';
import { startMotoServer } from './moto.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const workers = Math.max(1, project.config.maxWorkers ?? 1);
  const servers = await Promise.all(Array.from({ length: workers }, () => startMotoServer()));
  project.provide(
    'motoEndpoints',
    servers.map((s) => s.endpoint),
  );
  return async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
}
