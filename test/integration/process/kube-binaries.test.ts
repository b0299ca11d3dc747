/** Finding the kube binaries: a cache without them is a clear error that says how to build them. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeBinariesMissingError, kubeBinaries } from '../../../local/process/kube.js';

describe('kubeBinaries', () => {
  const saved = process.env['CLUSTERLESS_KUBE_CACHE'];
  afterEach(() => {
    if (saved === undefined) delete process.env['CLUSTERLESS_KUBE_CACHE'];
    else process.env['CLUSTERLESS_KUBE_CACHE'] = saved;
  });

  it('refuses an empty cache with KubeBinariesMissingError naming the script that builds them', () => {
    const empty = mkdtempSync(join(tmpdir(), 'clusterless-kube-cache-'));
    try {
      process.env['CLUSTERLESS_KUBE_CACHE'] = empty;
      expect(() => kubeBinaries()).toThrow(KubeBinariesMissingError);
      expect(() => kubeBinaries()).toThrow(/bash scripts\/build-kube\.sh/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
