/**
 * What keeps a web page out of the local API. The server listens on 127.0.0.1, but a browser on this machine
 * can still be made to send it requests: a page on any site can POST to http://127.0.0.1:8080 (a "simple"
 * request needs no preflight), and a name the attacker controls can be re-pointed at 127.0.0.1 (DNS
 * rebinding), after which the page reads the answers as same-origin. Both carry tell-tale headers: the Host of
 * the rebinding is the attacker's name, and a cross-site request has the page's Origin and, in current
 * browsers, `Sec-Fetch-Site: cross-site`. curl, kubectl and the CLI send a loopback Host and neither of the
 * others. The rules follow vitejs/vite's packages/vite/src/node/server/middlewares/hostCheck.ts (allowed hosts
 * against DNS rebinding) and rejectNoCorsRequest.ts (Fetch Metadata), narrowed to loopback only.
 */
import { ApiError } from '../functions/api/http/index.js';

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];
/** The origins of the pages the server itself serves (the dashboard, dashboard/assets.ts). */
const OWN_ORIGIN_HOSTS = ['127.0.0.1', 'localhost'];

const refuse = (field: string, message: string) => new ApiError('Forbidden', message, { causes: [{ reason: 'FieldValueForbidden', message, field }] });

/** `host` or `host:port` with one of the loopback names and, if any, the server's own port. */
function isLoopbackHost(value: string, port: number): boolean {
  const v = value.trim().toLowerCase();
  return LOOPBACK_HOSTS.some((h) => v === h || v === `${h}:${port}`);
}

function isOwnOrigin(value: string, port: number): boolean {
  const v = value.trim().toLowerCase();
  return OWN_ORIGIN_HOSTS.some((h) => v === `http://${h}:${port}`);
}

/**
 * The refusal of a request a browser was made to send, or undefined when the request may go on. `headers`
 * have lower-case names (as node:http gives them); `port` is the one the server listens on.
 */
export function browserRefusal(headers: Record<string, string | string[] | undefined>, port: number): ApiError | undefined {
  const one = (name: string): string | undefined => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const host = one('host');
  if (host === undefined || !isLoopbackHost(host, port))
    return refuse('Host', `the Host header must name this machine's loopback (127.0.0.1, localhost or [::1], port ${port}), not "${host ?? ''}"`);
  const origin = one('origin');
  if (origin !== undefined && !isOwnOrigin(origin, port)) return refuse('Origin', `requests from web pages of other origins are refused (Origin "${origin}")`);
  if (one('sec-fetch-site')?.trim().toLowerCase() === 'cross-site') return refuse('Sec-Fetch-Site', 'cross-site requests from web pages are refused');
  return undefined;
}
