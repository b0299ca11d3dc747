/**
 * Where a bundle's cold start spends its CPU: the self time of the V8 CPU profiles in a directory (`npx tsx
 * bench/coldstart.ts --functions reconcile --cpu-prof /tmp/prof` writes them to /tmp/prof/reconcile), summed by
 * source: a package of node_modules, a folder of ours (functions/api/...), a Node builtin (node:internal/...), or V8's
 * own entries ((garbage collector), (program)). Frames of the bundle are mapped through its source map.
 *
 * `npx tsx bench/support/profile-by-source.ts <profile dir> <bundle dir> [top]`: milliseconds per source, the mean
 * over the profiles, largest first.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Profile {
  nodes: { id: number; callFrame: { url: string; functionName: string; lineNumber: number; columnNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** The source a bundle's source path belongs to: `@scope/package` or `package` of node_modules, else our folder. */
export function sourceGroup(source: string): string {
  const packaged = source.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (packaged) return packaged[1]!;
  return source.replace(/^(\.\.\/)+/, '').replace(/\/[^/]+$/, '/');
}

/** Self time in ms per source, summed over `profiles`, frames of `bundleUrl` mapped through `map`. */
export function selfTimeBySource(profiles: Profile[], bundleUrl: string, map: SourceMap): Map<string, number> {
  const totals = new Map<string, number>();
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    profile.samples.forEach((id, i) => {
      const frame = byId.get(id)!;
      let group: string;
      if (frame.url === bundleUrl) {
        const entry = map.findEntry(frame.lineNumber, frame.columnNumber);
        group = 'originalSource' in entry ? sourceGroup(entry.originalSource) : '(bundle, unmapped)';
      } else group = frame.url || `(${frame.functionName || 'native'})`;
      totals.set(group, (totals.get(group) ?? 0) + profile.timeDeltas[i]! / 1000);
    });
  }
  return totals;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [profileDir, bundleDir, top = '30'] = process.argv.slice(2);
  if (!profileDir || !bundleDir) throw new Error('usage: profile-by-source.ts <profile dir> <bundle dir> [top]');
  const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
  const profiles = files.map((f) => JSON.parse(readFileSync(join(profileDir, f), 'utf8')) as Profile);
  const bundle = join(bundleDir, 'index.mjs');
  const map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as SourceMapPayload);
  const totals = selfTimeBySource(profiles, pathToFileURL(bundle).href, map);
  const all = [...totals.values()].reduce((a, b) => a + b, 0);
  console.log(`${files.length} profiles, mean ${(all / files.length).toFixed(1)} ms sampled`);
  for (const [group, ms] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
    console.log(`${(ms / files.length).toFixed(1).padStart(7)}  ${group}`);
  }
}
