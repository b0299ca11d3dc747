/**
 * Everything the commands touch outside themselves, passed in, so that tests run them in process with a
 * fake terminal and the real HTTP API, and main.ts binds it to the process.
 */
import pc from 'picocolors';

export interface Output {
  write(text: string): void;
  /** True on a terminal: colours and redrawn progress; otherwise plain, stable lines for scripts. */
  isTTY: boolean;
  columns?: number;
}

export interface Io {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
  readStdin(): Promise<string>;
  readFile(path: string): Promise<string>;
  /** Files of a directory, for `apply -f DIR`; throws when `path` is not a directory. */
  listDir(path: string): Promise<string[] | undefined>;
  fetch: typeof fetch;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Registers a handler for SIGINT/SIGTERM; returns the function that removes it. */
  onInterrupt(handler: (signal: string) => void): () => void;
  /** Imports a module by path relative to cli/ (the embedded host is optional, so it is loaded late). */
  importModule(specifier: string): Promise<unknown>;
  /** Leaves at once (a second Ctrl-C while `up` shuts down). */
  exit(code: number): never;
}

export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Colours only on a terminal and never with NO_COLOR set to anything but the empty string
 * (https://no-color.org).
 */
export function colorEnabled(out: Output, env: Io['env']): boolean {
  const noColor = env['NO_COLOR'];
  return out.isTTY && (noColor === undefined || noColor === '');
}

export function colorsFor(out: Output, env: Io['env']): Colors {
  return pc.createColors(colorEnabled(out, env));
}

/** The visible width of a string that may hold ANSI colour codes. */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}
