/**
 * Nesting depth of a request body, measured on its text before any parser runs: a deeply nested body must
 * never reach a recursive parser (the yaml package's composer overflows its stack at a few thousand levels;
 * V8's JSON.parse does not, but the walks after it would). Both scans are linear and iterative; the YAML one
 * keeps one small record per level it counts, so never more than the limit it is given.
 *
 * Depth counts collections as checkStructure does: the top object is level 1.
 * - JSON: every `[` and `{` outside strings opens a level, every `]` and `}` closes one. Exact.
 * - YAML: an over-estimate, never an under-estimate of what the parser would build:
 *   - block nesting: each indicator that opens a node (`- `, `? `, and `key:`) adds one level, since
 *     `- - - a` nests three sequences on one line and `- a:` a sequence, a mapping and maybe a collection as
 *     the value, and is remembered with its column and the depth it reached. A line starts at the depth of the
 *     last indicator above it whose column is less than the line's indentation (1 at the top): the node it
 *     opened is where the line's content belongs. A `- ` line at the column of a `key:` whose value is still to
 *     come is that value (a sequence may sit at its key's indentation), so it starts there too;
 *   - flow nesting: `[` and `{` that open a flow collection (at the start of a node, or anywhere inside a
 *     flow collection), counted on top of the block depth of the line where the collection starts; one more
 *     for a `key: value` pair directly in a flow sequence (`[a: [b]]` is a sequence of one-pair mappings),
 *     and one for each `- ` that starts a node inside a flow collection (invalid, but the parser's error
 *     recovery builds a sequence for it before the document is refused);
 *   - quoted scalars, comments and block scalars (`|`, `>`) are skipped, so brackets in text never count;
 *     a line that carries on a plain scalar (indented under the node the scalar is in, with no comment or
 *     document marker between) starts as its text, so a quote there is text too, as the parser reads it;
 *   - `---` and `...` at the start of a line end a document: the next one starts at the top.
 *   A `key:` or `- ` whose value is a scalar counts a level that is not there, so on what yaml.stringify and
 *   JSON.stringify write the estimate is the depth or one more (the property test in test/unit/http/nesting.test.ts);
 *   odd text (a block scalar at the top, multi-line scalars in flow) can count several more, which only
 *   ever refuses, never admits.
 */

/** True when JSON text nests deeper than `max`. Malformed text is the parser's to refuse. */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string, escapes included; an unterminated one ends the scan (JSON.parse refuses it).
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

const isBlank = (c: string | undefined) => c === undefined || c === ' ' || c === '\t' || c === '\n' || c === '\r';

/** `|` or `>`, an indentation and a chomping indicator in either order, and nothing else but a comment. */
const BLOCK_SCALAR_HEADER = /^[|>](?:([1-9])[-+]?|[-+]([1-9])?)?(?:[ \t]+#.*)?[ \t\r]*$/;

/** A block scalar being skipped: its parent node's indentation, and its content's once known. */
interface BlockScalar {
  parent: number;
  content: number | undefined;
}

/** A block indicator (`- `, `? `, `key:`) above the line being read. */
interface Opened {
  /** The column of the indicator (of the key's first token for `key:`). */
  column: number;
  /** The depth of the node it opens. */
  depth: number;
  /** A `key:` (or `? `) whose value (or key) has not begun yet: a `- ` line at its column is that node. */
  keyOpen: boolean;
}

/** True when YAML text may nest deeper than `max` (an over-estimate: see the file comment). */
export function yamlMayNestDeeperThan(text: string, max: number): boolean {
  const opened: Opened[] = []; // the indicators that enclose the line being read, columns increasing
  let lastKey: Opened | undefined; // the last `key:` of this line, while its value may still be to come
  let keyColumn = -1; // the column of the first token of the node being read (-1: the next token's)
  // A plain scalar may carry on over the next lines, and there `'`, `"`, `[` or `|` are text: while one is
  // being read, the innermost indicator it is in (undefined at the top), else null.
  let plainIn: Opened | undefined | null = null;
  // The open flow collections, innermost last: how many levels each counts for, and whether it is a sequence
  // that has already counted the one-pair mappings in it.
  const flowLevels: number[] = [];
  const flowPairs: boolean[] = [];
  let flow = 0; // the sum of flowLevels
  let base = 0; // block depth of the line where the open flow collection or quoted scalar started
  let quote: '"' | "'" | undefined; // inside a quoted scalar, possibly over several lines
  let quoteClosedAt = -1; // where the last quoted scalar ended: a ":" right after it is a mapping value
  let blockScalar: BlockScalar | undefined;
  let nodeStart = true; // the next token starts a node (where "[", "{", a quote, "|" mean something)

  for (let i = 0; i < text.length; ) {
    // One line: text[i .. end).
    let end = text.indexOf('\n', i);
    if (end < 0) end = text.length;
    let indent = 0;
    while (text[i + indent] === ' ') indent++;
    const first = i + indent < end ? text[i + indent] : undefined;
    const blank = first === undefined || first === '\r';

    if (blockScalar) {
      // Text until the first non-blank line indented less than the content (the spec's rule).
      if (blank) {
        i = end + 1;
        continue;
      }
      blockScalar.content ??= indent > blockScalar.parent ? indent : undefined;
      if (blockScalar.content !== undefined && indent >= blockScalar.content) {
        i = end + 1;
        continue;
      }
      blockScalar = undefined;
    }

    let depth = base; // the block depth this line's tokens nest under
    let marker = 0; // the length of a document marker that begins the line
    if (quote === undefined && flow === 0) {
      if (blank || first === '#') {
        if (!blank) plainIn = null; // a comment ends a plain scalar
        i = end + 1;
        continue;
      }
      // `---` and `...` at the start of a line end the document and everything open in it; a node may follow.
      if (indent === 0 && /^(?:---|\.\.\.)(?:[ \t\r]|$)/.test(text.slice(i, Math.min(end, i + 4)))) {
        plainIn = null;
        opened.length = 0;
        marker = 3;
      }
      const dash = first === '-' && isBlank(text[i + indent + 1]);
      for (let top = opened.at(-1); top && top.column >= indent; top = opened.at(-1)) {
        // Note: `a:` then `- b` at the same column is a mapping whose value is a sequence (yaml.stringify
        // writes it so with indentSeq: false): the `- ` line is inside the `a:`, not beside it.
        if (dash && top.column === indent && top.keyOpen) break;
        opened.pop();
      }
      depth = opened.at(-1)?.depth ?? 1;
      if (depth > max) return true;
      // Still inside the node of the plain scalar the line above ended with: this line carries it on.
      const continued = plainIn !== null && opened.at(-1) === plainIn;
      if (!continued) plainIn = null;
      nodeStart = !continued;
      lastKey = undefined;
      keyColumn = indent;
    }
    let nodeColumn = indent; // the column of the node a block scalar indicator belongs to

    for (let p = i + indent + marker; p < end; p++) {
      const c = text[p]!;
      if (quote !== undefined) {
        if (c === '\\' && quote === '"') p++;
        else if (c === "'" && quote === "'" && text[p + 1] === "'") p++;
        else if (c === quote) {
          quote = undefined;
          quoteClosedAt = p;
          nodeStart = false;
        }
        continue;
      }
      if (c === ' ' || c === '\t' || c === '\r') continue;
      if (c === '#' && (p === i || isBlank(text[p - 1]))) {
        if (flow === 0) plainIn = null; // a comment runs to the end of the line, and ends a plain scalar
        break;
      }
      // (quoteClosedAt is -1 before any quote: a ':' at the very start of the text begins a plain scalar.)
      const startsValue = c === ':' && (isBlank(text[p + 1]) || (p > 0 && quoteClosedAt === p - 1) || (flow > 0 && ',[]{}'.includes(text[p + 1]!)));
      if (flow > 0) {
        const top = flowLevels.length - 1;
        if (c === '[' || c === '{') {
          flowLevels.push(1);
          flowPairs.push(c === '{');
          if (base + ++flow > max) return true;
          nodeStart = true;
        } else if (c === ']' || c === '}') {
          flow -= flowLevels.pop()!;
          flowPairs.pop();
          nodeStart = false;
        } else if (c === ',') nodeStart = true;
        else if (startsValue || ((c === '?' || c === '-') && (nodeStart || p === i + indent) && isBlank(text[p + 1]))) {
          if (c === '-' || !flowPairs[top]) {
            flowPairs[top] = c !== '-' || flowPairs[top]!;
            flowLevels[top]!++;
            if (base + ++flow > max) return true;
          }
          nodeStart = true;
        } else if ((c === '"' || c === "'") && nodeStart) quote = c;
        else nodeStart = false;
        continue;
      }
      // Block context.
      if (keyColumn < 0) keyColumn = p - i;
      if (nodeStart) {
        if ((c === '-' || c === '?') && isBlank(text[p + 1])) {
          if (++depth > max) return true; // a sequence entry (or an explicit key) opens a node on this very line
          nodeColumn = p - i;
          plainIn = null;
          if (lastKey) lastKey.keyOpen = false;
          // An explicit key (`? `) is open like a `key:`: a sequence at its column is its content.
          const entry = { column: p - i, depth, keyOpen: c === '?' };
          opened.push(entry);
          lastKey = c === '?' ? entry : undefined;
          keyColumn = -1;
          continue;
        }
        // Anchors and tags lead a node; anything else begins one, so the value of the last key has begun.
        if (lastKey && c !== '&' && c !== '!' && !startsValue) lastKey.keyOpen = false;
        if (c === '[' || c === '{') {
          base = depth;
          flowLevels.push(1);
          flowPairs.push(c === '{');
          if (base + ++flow > max) return true;
          continue;
        }
        if (c === '"' || c === "'") {
          base = depth;
          quote = c;
          nodeColumn = p - i;
          continue;
        }
        const header = c === '|' || c === '>' ? BLOCK_SCALAR_HEADER.exec(text.slice(p, end)) : null;
        if (header) {
          // A block scalar: the lines after it, indented more than its node, are its text.
          const digit = header[1] ?? header[2];
          blockScalar = { parent: nodeColumn, content: digit === undefined ? undefined : nodeColumn + Number(digit) };
          break;
        }
        if (c === '&' || c === '!') {
          // An anchor or a tag: the node itself comes after it.
          while (p + 1 < end && !isBlank(text[p + 1])) p++;
          continue;
        }
        if (c === ']' || c === '}' || c === ',') continue; // no plain scalar starts so (the parser reports it)
        nodeStart = false; // a plain scalar (or an alias) begins
        nodeColumn = p - i;
        plainIn = c === '*' ? null : opened.at(-1); // an alias carries on over no line
      }
      if (startsValue) {
        if (++depth > max) return true; // a mapping value follows: it may be a collection
        nodeStart = true;
        lastKey = { column: keyColumn, depth, keyOpen: true };
        opened.push(lastKey);
        keyColumn = -1;
        plainIn = null;
      }
    }
    if (quote !== undefined || flow > 0 || blockScalar) plainIn = null;
    i = end + 1;
  }
  return false;
}
