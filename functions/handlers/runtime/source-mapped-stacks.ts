/**
 * Readable stack traces in the Lambda bundles without `--enable-source-maps`. HandlerFunction injects
 * install-source-mapped-stacks.ts into every bundle (esbuild `--inject`); it sets `Error.prepareStackTrace`, which V8
 * calls only when an error's `stack` is first read, and only then is the bundle's source map (index.mjs.map, next to
 * index.mjs) read and decoded, once per process. `--enable-source-maps` read and parsed the map at every cold start,
 * whether an error came or not, and decoded all of it at the first stack.
 *
 * A frame of the bundle reads `at name (functions/core/x.ts:12:5)`: the map's source without its leading `../`
 * segments (esbuild writes it relative to the asset's folder: `functions/...` for an app synthesized in the
 * repository, e.g. into cdk.out; a package from `node_modules/`), the line and column in it, and the name the map gives the enclosing
 * function, else the name at the caller's call site, as Node's own source-mapped stacks find it
 * (lib/internal/source_map/prepare_stack_trace.js in nodejs/node). Without such a name the frame is the location
 * alone (`at functions/handlers/http.ts:40:3`): V8's name of a minified function would mislead. Frames of other files,
 * and every frame when the map cannot be read, are V8's own.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A position of the original source: 0-based line and column, as in a source map. */
export interface OriginalPosition {
  source: string;
  line: number;
  column: number;
  name?: string;
}

/** The fields of a source map v3 that a lookup reads. */
export interface SourceMapJson {
  sources: string[];
  names?: string[];
  mappings: string;
}

const BASE64 = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) BASE64[c.charCodeAt(0)] = i;

/** Every how many segments the scan keeps a checkpoint (a lookup then decodes at most this many of its line). */
const CHECKPOINT_EVERY = 32;

/**
 * Lookups in a source map v3 that keep no object per mapping (node:module's SourceMap decodes every mapping into
 * arrays first: about 100 ms of CPU and much garbage for a task's 2 MB map). The first lookup scans the mappings
 * once, keeping where each generated line starts and the running source, line, column and name there, and every
 * CHECKPOINT_EVERY segments the same after a segment, with its generated column; a lookup decodes forward from the
 * last checkpoint at or before its column (esbuild writes a line's mappings in column order). A minified bundle's
 * line holds tens of thousands of segments: decoding the whole line of each frame took as long as the scan.
 */
export class SourceMapLookup {
  /** Per generated line: where it starts in `mappings`, the running source, line, column and name there, its first checkpoint. */
  private lines: Int32Array | undefined;
  /**
   * Per checkpoint, after a segment: where the next segment starts, then the segment's generated column, source, line,
   * column, name (running values) and its number of fields.
   */
  private checkpoints: Int32Array | undefined;
  /** The mappings as bytes: the loops over them run once, mostly before V8 optimizes them, where typed arrays are faster. */
  private bytes: Buffer | undefined;

  constructor(private readonly map: SourceMapJson) {}

  /** The mapping at or before the generated 0-based `line` and `column` on that line, if it maps to a source. */
  find(line: number, column: number): OriginalPosition | undefined {
    if (this.lines === undefined) this.scan();
    const lines = this.lines!;
    const checkpoints = this.checkpoints!;
    const m = this.bytes!;
    if (line < 0 || (line + 1) * 6 > lines.length) return undefined;
    // The last checkpoint of the line at or before the column.
    let low = lines[line * 6 + 5]!;
    let high = ((line + 1) * 6 < lines.length ? lines[(line + 1) * 6 + 5]! : checkpoints.length / 7) - 1;
    let at = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (checkpoints[middle * 7 + 1]! <= column) {
        at = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    // The segment found so far (its number of fields, 0: none yet) and the running values after it.
    let i: number;
    let fields: number;
    let generated: number;
    let source: number;
    let originalLine: number;
    let originalColumn: number;
    let name: number;
    if (at >= 0) {
      i = checkpoints[at * 7]!;
      generated = checkpoints[at * 7 + 1]!;
      source = checkpoints[at * 7 + 2]!;
      originalLine = checkpoints[at * 7 + 3]!;
      originalColumn = checkpoints[at * 7 + 4]!;
      name = checkpoints[at * 7 + 5]!;
      fields = checkpoints[at * 7 + 6]!;
    } else {
      i = lines[line * 6]!;
      generated = 0;
      source = lines[line * 6 + 1]!;
      originalLine = lines[line * 6 + 2]!;
      originalColumn = lines[line * 6 + 3]!;
      name = lines[line * 6 + 4]!;
      fields = 0;
    }
    const decoded = [0, 0, 0, 0, 0];
    while (i < m.length && m[i] !== 59 /* ; */) {
      let n = 0;
      let value = 0;
      let shift = 0;
      for (; i < m.length; i++) {
        const c = m[i]!;
        if (c === 44 /* , */) {
          i++;
          break;
        }
        if (c === 59) break;
        const digit = c < 128 ? BASE64[c]! : -1;
        if (digit < 0 || n === 5) throw new Error(`source map: invalid mappings at ${i}`);
        value |= (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          decoded[n++] = value & 1 ? -(value >>> 1) : value >>> 1;
          value = 0;
          shift = 0;
        }
      }
      if (generated + decoded[0]! > column) break;
      generated += decoded[0]!;
      if (n >= 4) {
        source += decoded[1]!;
        originalLine += decoded[2]!;
        originalColumn += decoded[3]!;
        if (n === 5) name += decoded[4]!;
      }
      fields = n;
    }
    if (fields < 4) return undefined;
    const file = this.map.sources[source];
    if (file === undefined) return undefined;
    const symbol = fields === 5 ? this.map.names?.[name] : undefined;
    return { source: file, line: originalLine, column: originalColumn, ...(symbol !== undefined ? { name: symbol } : {}) };
  }

  /** One pass over the mappings: each line's start and running values, and the checkpoints (`lines`, `checkpoints`). */
  private scan(): void {
    const m = Buffer.from(this.map.mappings, 'latin1');
    this.bytes = m;
    let count = 1;
    for (let i = m.indexOf(59); i >= 0; i = m.indexOf(59, i + 1)) count++;
    const lines = new Int32Array(count * 6);
    const checkpoints: number[] = [];
    let line = 0;
    let field = 0;
    let value = 0;
    let shift = 0;
    let segments = 0;
    let generated = 0;
    let source = 0;
    let originalLine = 0;
    let originalColumn = 0;
    let name = 0;
    for (let i = 0; i < m.length; i++) {
      const c = m[i]!;
      if (c === 44 || c === 59) {
        if (c === 59) {
          const at = ++line * 6;
          lines[at] = i + 1;
          lines[at + 1] = source;
          lines[at + 2] = originalLine;
          lines[at + 3] = originalColumn;
          lines[at + 4] = name;
          lines[at + 5] = checkpoints.length / 7;
          generated = 0;
        } else if (++segments % CHECKPOINT_EVERY === 0) checkpoints.push(i + 1, generated, source, originalLine, originalColumn, name, field);
        field = 0;
        continue;
      }
      const digit = c < 128 ? BASE64[c]! : -1;
      if (digit < 0) throw new Error(`source map: invalid mappings at ${i}`);
      value |= (digit & 31) << shift;
      if (digit & 32) shift += 5;
      else {
        // Field 0 is the generated column (per line); fields 1 to 4 run on across lines.
        const delta = value & 1 ? -(value >>> 1) : value >>> 1;
        if (field === 0) generated += delta;
        else if (field === 1) source += delta;
        else if (field === 2) originalLine += delta;
        else if (field === 3) originalColumn += delta;
        else if (field === 4) name += delta;
        field++;
        value = 0;
        shift = 0;
      }
    }
    this.lines = lines;
    this.checkpoints = Int32Array.from(checkpoints);
  }
}

/** The map's source as a stack shows it: `functions/...` or `node_modules/<package>/...`. */
export function displayedSource(source: string): string {
  const packaged = source.lastIndexOf('node_modules/');
  if (packaged >= 0) return source.slice(packaged);
  return source.replace(/^(\.\.?\/)+/, '');
}

function header(error: unknown): string {
  try {
    return Error.prototype.toString.call(error);
  } catch {
    return '<error>';
  }
}

/**
 * The stack formatter for the bundle that V8's call sites name `bundleFile` (an ES module's file: URL), whose map
 * `loadMap` reads (a map that cannot be read leaves V8's frames).
 */
export function sourceMappedStackFormatter(bundleFile: string, loadMap: () => SourceMapJson): (error: unknown, trace: NodeJS.CallSite[]) => string {
  let map: SourceMapLookup | null | undefined;
  const mapOnce = (): SourceMapLookup | null => {
    if (map === undefined) {
      try {
        map = new SourceMapLookup(loadMap());
      } catch {
        map = null;
      }
    }
    return map;
  };
  /** The mapping at a call site's 1-based position, or at its enclosing function's. */
  const at = (m: SourceMapLookup, line: number | null, column: number | null) => (line !== null && column !== null ? m.find(line - 1, column - 1) : undefined);
  const frame = (site: NodeJS.CallSite, caller: NodeJS.CallSite | undefined): string => {
    const m = site.getFileName() === bundleFile ? mapOnce() : null;
    const origin = m ? at(m, site.getLineNumber(), site.getColumnNumber()) : undefined;
    if (!m || !origin) return `    at ${site}`;
    let symbol = at(m, site.getEnclosingLineNumber(), site.getEnclosingColumnNumber())?.name;
    if (!symbol && caller?.getFileName() === bundleFile) symbol = at(m, caller.getLineNumber(), caller.getColumnNumber())?.name;
    const prefix = site.isAsync() ? 'async ' : site.isConstructor() ? 'new ' : '';
    const location = `${displayedSource(origin.source)}:${origin.line + 1}:${origin.column + 1}`;
    return `    at ${prefix}${symbol ? `${symbol} (${location})` : location}`;
  };
  return (error, trace) => {
    try {
      return [header(error), ...trace.map((site, i) => frame(site, trace[i + 1]))].join('\n');
    } catch {
      // A map that cannot be decoded: V8's frames.
      map = null;
      return [header(error), ...trace.map((site) => `    at ${site}`)].join('\n');
    }
  };
}

/**
 * Sets the formatter for this bundle (the file of `bundleUrl`, its map beside it), unless Node maps stacks itself
 * (`--enable-source-maps`). It replaces Node's default `Error.prepareStackTrace`, whose frames it keeps for other files.
 */
export function installSourceMappedStacks(bundleUrl: string): void {
  if (process.sourceMapsEnabled) return;
  Error.prepareStackTrace = sourceMappedStackFormatter(bundleUrl, () => JSON.parse(readFileSync(`${fileURLToPath(bundleUrl)}.map`, 'utf8')) as SourceMapJson);
}
