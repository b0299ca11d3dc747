/**
 * Debian's chromium, unpacked into the per-user cache by scripts/setup-browser.sh (which `npm test` runs), driven by
 * playwright-core: headless, no sandbox (the tests run as whatever user CI gives them), the unpacked libraries on
 * LD_LIBRARY_PATH.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_DIR =
  process.env['CLUSTERLESS_CHROMIUM_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'clusterless', 'chromium');

/** Starts a headless Chromium; fails with what to run when the cache has none. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = join(CHROMIUM_DIR, 'root/usr/lib/chromium/chromium');
  const libraryPath = join(CHROMIUM_DIR, 'library-path');
  if (!existsSync(executablePath) || !existsSync(libraryPath)) throw new Error(`no chromium in ${CHROMIUM_DIR}: run bash scripts/setup-browser.sh`);
  const ld = [readFileSync(libraryPath, 'utf8').trim(), process.env['LD_LIBRARY_PATH']].filter(Boolean).join(':');
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'],
    env: { ...process.env, LD_LIBRARY_PATH: ld },
  });
}
