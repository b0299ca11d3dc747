/**
 * Nesting depth of a request body, measured on its text before any parser runs: a deeply nested body must
 * never reach a recursive parser (the yaml package's composer overflows its stack at a few thousand levels;
 * V8's JSON.parse does not, but the walks after it would). Both scans are linear, iterative and allocate
 * nothing per level.
 *
 * Depth counts collections as checkStructure does: the top object is level 1.
 * - JSON: every `[` and `{` outside strings opens a level, every `]` and `}` closes one. Exact.
 * - YAML: an over-estimate, never an under-estimate of what the parser would build:
 *   - block nesting: the stack of indentations of the lines above that are less indented than this one,
 *     plus one for each indicator on the line that opens a node (`- `, `? `, and `key:`), since
 *     `- - - a` nests three sequences on one line;
 *   - flow nesting: `[` and `{` that open a flow collection (at the start of a node, or anywhere inside a
 *     flow collection), counted on top of the block depth of the line where the collection starts; one more
 *     for a `key: value` pair directly in a flow sequence (`[a: [b]]` is a sequence of one-pair mappings),
 *     and one for each `- ` that starts a node inside a flow collection (invalid, but the parser's error
 *     recovery builds a sequence for it before the document is refused);
 *   - quoted scalars, comments and block scalars (`|`, `>`) are skipped, so brackets in text never count.
 *   A plain scalar that carries on over lines indented further counts as deeper than it is; no manifest
 *   comes near the limit that way.
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

/** True when YAML text may nest deeper than `max` (an over-estimate: see the file comment). */
export function yamlMayNestDeeperThan(text: string, max: number): boolean {
  const indents: number[] = []; // indentations of the enclosing block lines, increasing
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
    if (quote === undefined && flow === 0) {
      if (blank || first === '#') {
        i = end + 1;
        continue;
      }
      while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
      depth = indents.length;
      if (depth > max) return true;
      nodeStart = true;
    }
    let nodeColumn = indent; // the column of the node a block scalar indicator belongs to

    for (let p = i + indent; p < end; p++) {
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
      if (c === '#' && (p === i || isBlank(text[p - 1]))) break; // a comment runs to the end of the line
      const startsValue = c === ':' && (isBlank(text[p + 1]) || quoteClosedAt === p - 1 || (flow > 0 && ',[]{}'.includes(text[p + 1]!)));
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
      if (nodeStart) {
        if ((c === '-' || c === '?') && isBlank(text[p + 1])) {
          if (++depth > max) return true; // a sequence entry (or an explicit key) opens a node on this very line
          nodeColumn = p - i;
          continue;
        }
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
      }
      if (startsValue) {
        if (++depth > max) return true; // a mapping value follows: it may be a collection
        nodeStart = true;
      }
    }
    i = end + 1;
  }
  return false;
}
