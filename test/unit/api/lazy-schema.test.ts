/**
 * The API's schemas are built when first used (functions/api/lazy-schema.ts): importing the API builds none, and a
 * lazy schema parses, wraps, describes and converts to a JSON schema as the schema it stands for.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { lazySchema, lazySchemasBuilt } from '../../../functions/api/lazy-schema.js';
import { REPO_ROOT } from '../../../infra/constructs/handler-function.js';

describe('lazySchema', () => {
  it('importing the API, its HTTP layer and its service builds no schema', async () => {
    // Fresh modules: unit files share their worker's modules, so another file may have built schemas already.
    vi.resetModules();
    const fresh = await import('../../../functions/api/lazy-schema.js');
    await import('../../../functions/api/index.js');
    await import('../../../functions/api/http/index.js');
    await import('../../../functions/api/service/index.js');
    expect(fresh.lazySchemasBuilt()).toBe(0);
    expect(lazySchemasBuilt).not.toBe(fresh.lazySchemasBuilt);
  });

  it('no module of the API builds a schema at top level (a top-level `const x = z...` is built at import)', () => {
    const api = join(REPO_ROOT, 'functions', 'api');
    const eager = readdirSync(api, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) =>
        readFileSync(join(api, f), 'utf8')
          .split('\n')
          .map((line, i) => ({ at: `${f}:${i + 1}`, line }))
          .filter(({ line }) => /^(export\s+)?const\s+\w+(:[^=]+)?\s*=\s*z(\s*$|\s*\.)/.test(line)),
      );
    expect(eager.map((e) => `${e.at}: ${e.line}`)).toEqual([]);
  });

  it('builds once, at the first use, and then stands for the schema', () => {
    let builds = 0;
    const name = lazySchema(() => {
      builds++;
      return z.string().min(1).describe('A name.');
    });
    const pair = lazySchema(() => z.strictObject({ first: name, second: name.optional() }));
    expect(builds).toBe(0);
    expect(pair.parse({ first: 'a' })).toEqual({ first: 'a' });
    expect(pair.safeParse({ first: '' }).success).toBe(false);
    expect(builds).toBe(1);
    expect(name).toBeInstanceOf(z.ZodString);
    expect(name.description).toBe('A name.');
    expect(z.toJSONSchema(pair, { io: 'input', reused: 'inline' })).toEqual(
      z.toJSONSchema(z.strictObject({ first: z.string().min(1).describe('A name.'), second: z.string().min(1).describe('A name.').optional() }), {
        io: 'input',
        reused: 'inline',
      }),
    );
  });
});
