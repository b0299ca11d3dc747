/**
 * The dashboard's files and how a server answers for them. The page (dashboard/web) is bundled by esbuild into
 * build/dashboard (git-ignored; `npm run dashboard`, which `npm start` runs first); a server that finds no bundle
 * there builds one in memory once. The same files are served by the embedded host at `/` and by
 * `clusterless dashboard`'s proxy.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const WEB = resolve(import.meta.dirname, 'web');
/** Where `npm run dashboard` writes the bundle. */
export const DASHBOARD_BUILD_DIR = resolve(import.meta.dirname, '../build/dashboard');

/** The URL paths of the page and its assets; nothing else is the dashboard's. */
export const DASHBOARD_PATHS = { '/': 'index.html', '/dashboard/app.js': 'app.js', '/dashboard/style.css': 'style.css' } as const;
const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

export type DashboardFiles = Record<'index.html' | 'app.js' | 'style.css', string>;

/** Bundles the page (esbuild, loaded only here: a devDependency, like the rest of the local toolchain). */
export async function buildDashboard(): Promise<DashboardFiles> {
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [join(WEB, 'app.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return {
    'index.html': readFileSync(join(WEB, 'index.html'), 'utf8'),
    'app.js': out.outputFiles[0]!.text,
    'style.css': readFileSync(join(WEB, 'style.css'), 'utf8'),
  };
}

/** Builds the page into `dir` (build/dashboard by default). */
export async function writeDashboard(dir = DASHBOARD_BUILD_DIR): Promise<void> {
  const files = await buildDashboard();
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

let loaded: Promise<DashboardFiles> | undefined;

/** True when every built file is there and newer than every source file (a page edited since is built again). */
function builtAndFresh(dir: string): boolean {
  const names = Object.values(DASHBOARD_PATHS);
  if (!names.every((n) => existsSync(join(dir, n)))) return false;
  const newestSource = Math.max(...readdirSync(WEB).map((f) => statSync(join(WEB, f)).mtimeMs));
  return names.every((n) => statSync(join(dir, n)).mtimeMs >= newestSource);
}

/** The bundle from build/dashboard, or built in memory when it is missing or stale (once per process). */
export function dashboardFiles(dir = DASHBOARD_BUILD_DIR): Promise<DashboardFiles> {
  loaded ??= (async () => {
    const names = Object.values(DASHBOARD_PATHS);
    if (builtAndFresh(dir)) return Object.fromEntries(names.map((n) => [n, readFileSync(join(dir, n), 'utf8')])) as DashboardFiles;
    return buildDashboard();
  })();
  loaded.catch(() => (loaded = undefined));
  return loaded;
}

/**
 * The headers of every dashboard answer. The policy lets the page load its own script and style and call its own
 * origin only (no inline script, no other site, never framed); nothing is cached, so a rebuilt page is seen at once.
 */
export const DASHBOARD_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

export interface DashboardAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The answer for a request of the page or one of its assets, or undefined when the path is not the dashboard's
 * (the API's then). GET and HEAD only; the files carry no data, so they need no token: the page asks for it.
 */
export async function dashboardAnswer(method: string, path: string): Promise<DashboardAnswer | undefined> {
  const name = (DASHBOARD_PATHS as Record<string, keyof DashboardFiles>)[path];
  if (name === undefined || (method !== 'GET' && method !== 'HEAD')) return undefined;
  let files: DashboardFiles;
  try {
    files = await dashboardFiles();
  } catch (err) {
    // An install without devDependencies has no esbuild: say what to run rather than drop the connection.
    const body = `the dashboard is not built and cannot be built here (${(err as Error).message}): run npm run dashboard\n`;
    return { status: 503, headers: { ...DASHBOARD_HEADERS, 'content-type': 'text/plain; charset=utf-8' }, body };
  }
  return { status: 200, headers: { ...DASHBOARD_HEADERS, 'content-type': TYPES[name]! }, body: method === 'HEAD' ? '' : files[name] };
}
