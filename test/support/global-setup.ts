/**
 * vitest globalSetup of the projects that talk to AWS: ONE moto_server for the whole run, its endpoint provided
 * to every test file as `inject('motoEndpoint')`. Files share it and isolate themselves by unique names
 * (uniqueName in aws.ts) rather than resetting it, because they run in parallel. dynalite is started per file
 * (dynalite.ts). The unit project does not use it, so `npm run test:unit` starts no emulator.
 */
import type { TestProject } from 'vitest/node';
import { startMotoServer } from './moto.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMotoServer();
  project.provide('motoEndpoint', moto.endpoint);
  return () => moto.stop();
}
