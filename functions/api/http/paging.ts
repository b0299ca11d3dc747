/**
 * Lists in pages, as Kubernetes serves them (API conventions, "List operations"; kubectl's --chunk-size):
 * `limit` and `continue` on every list, `metadata.continue` while more remain. The page size, its cap and the
 * byte budget live here; the paging itself is the Store's (listPage).
 */
import { stringify } from 'yaml';
import type { ApiObject } from '../kind.js';
import { badRequest } from './status.js';

/** kubectl's default --chunk-size: a list without a limit comes in pages of this many. */
export const DEFAULT_LIST_LIMIT = 500;

/**
 * The largest page. A larger limit is clamped rather than refused: the API conventions let a server return
 * fewer items than the limit, so a client that follows `continue` (kubectl with a big --chunk-size) still
 * gets everything, and no request makes the server hold more than this.
 */
export const MAX_LIST_LIMIT = 1000;

/**
 * Bytes of items in one response. Lambda's response payload is at most 6 MB, counted on the proxy result, where
 * the body is a JSON string (quotes and backslashes escaped again); items are measured in that form, and the
 * envelope, headers and estimates keep to the 1 MiB left over.
 */
export const LIST_BYTE_BUDGET = 5 * 1024 * 1024;

/** The page size a `limit` query asks for: absent, empty or 0 or less is the default, more than the cap is the cap. */
export function listLimit(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_LIST_LIMIT;
  if (!/^-?\d+$/.test(text)) throw badRequest(`the query parameter "limit" must be a whole number, not ${JSON.stringify(text.slice(0, 100))}`);
  const n = Number(text);
  return n <= 0 ? DEFAULT_LIST_LIMIT : Math.min(n, MAX_LIST_LIMIT);
}

/**
 * What one item adds to a list response, as it travels inside Lambda's response: serialized as the response
 * will be (YAML, indented JSON or JSON) and then JSON-escaped.
 */
export function listItemBytes(obj: ApiObject, format: { yaml: boolean; pretty: boolean }): number {
  const text = format.yaml ? stringify({ items: [obj] }) : format.pretty ? indentedItem(obj) : JSON.stringify(obj);
  return Buffer.byteLength(JSON.stringify(text), 'utf8');
}

/** An item of an indented list is indented four more spaces than on its own. */
function indentedItem(obj: ApiObject): string {
  const text = JSON.stringify(obj, null, 2);
  let lines = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
  return text + ' '.repeat(4 * lines);
}
