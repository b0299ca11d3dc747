import type { ApiClient } from './client.js';
import { colorsFor, type Colors, type Io } from './io.js';

/** What every command gets: the outside world, the API client and colours decided once for stdout. */
export interface Context {
  io: Io;
  client: ApiClient;
  colors: Colors;
  /** Writes a line (a newline is added) to stdout. */
  out(line: string): void;
  /** Writes a line to stderr (notes such as "No resources found", never the final error line). */
  note(line: string): void;
}

export function makeContext(io: Io, client: ApiClient): Context {
  return {
    io,
    client,
    colors: colorsFor(io.stdout, io.env),
    out: (line) => io.stdout.write(`${line}\n`),
    note: (line) => io.stderr.write(`${line}\n`),
  };
}
