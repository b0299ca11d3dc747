/**
 * The moto_server of this test worker. global-setup.ts starts one per worker of the project (two): moto serves one
 * request at a time (one Python process), and two files that both drive EC2 hard slowed each other several times over
 * on a shared one (e2e/cli-aws: 36 s alone, 188 s beside ec2-bootstrap). Files still isolate themselves by unique
 * names: a worker runs one file at a time, but its server outlives the file.
 */
import { inject } from 'vitest';

export function motoEndpoint(): string {
  const endpoints = inject('motoEndpoints');
  const worker = Number(process.env['VITEST_POOL_ID'] ?? '1');
  return endpoints[(worker - 1) % endpoints.length]!;
}
