/**
 * The moto_server of this test worker. global-setup.ts starts one per worker of the project (two): moto serves one
 * request at a time (one Python process), and files that drive EC2 hard slow each other on a shared one (in one run
 * e2e/cli-aws took 188 s and ec2-bootstrap 98 s, against 36 s and about 30 s alone). Files still isolate themselves by
 * unique names: a worker runs one file at a time, but its server outlives the file.
 */
import { inject } from 'vitest';

export function motoEndpoint(): string {
  const endpoints = inject('motoEndpoints');
  const worker = Number(process.env['VITEST_POOL_ID'] ?? '1');
  return endpoints[(worker - 1) % endpoints.length]!;
}
