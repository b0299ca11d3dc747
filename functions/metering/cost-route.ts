/**
 * GET /clusterless/v1/cost and GET /clusterless/v1/namespaces/{namespace}/cost, the same on both hosts: a cost report
 * and a row per cluster of its usage in a month (`?period=YYYY-MM`, the current UTC month by default), priced and
 * extrapolated to a 30-day month (cluster-usage.ts). The installation-wide route's totals are the embedded host's
 * meter of everything since its start where there is one (`report`), else the sums of the rows; a namespace's route
 * answers its own clusters' rows and their sums only, so it tells nothing of other namespaces.
 *
 * Who may call them is decided before: on AWS by API Gateway's IAM and the kubectl door's authorizer
 * (api/access-entries.ts: the installation-wide route with a grant of every namespace, a namespace's with any grant
 * of that namespace), on the embedded host by its client token.
 */
import { DNS1123_LABEL } from '../api/common.js';
import { ApiError, statusResponse, type HttpRequest, type HttpResponse } from '../api/http/index.js';
import { USAGE_PERIOD, type Store } from '../ports.js';
import { clusterCosts, usageCostReport, usagePeriod, type ClusterCost } from './cluster-usage.js';
import type { CostReport } from './meter.js';
import { US_EAST_1_PRICES, type PriceTable } from './prices.js';

export const COST_PATH = '/clusterless/v1/cost';
const NAMESPACED_COST_PATH = /^\/clusterless\/v1\/namespaces\/([^/]*)\/cost$/;

/** A namespace's cost route. */
export const namespaceCostPath = (namespace: string) => `/clusterless/v1/namespaces/${namespace}/cost`;

/** Whether a path is one of the cost routes. */
export const isCostPath = (path: string): boolean => path === COST_PATH || NAMESPACED_COST_PATH.test(path);

/** The answer of a cost route: a cost report, the month it covers, and a row per cluster. */
export interface CostResponse extends CostReport {
  period: string;
  /** Set on a namespace's route. */
  namespace?: string;
  clusters: ClusterCost[];
}

export interface CostRouteDeps {
  store: Store;
  now: () => Date;
  /** @default US_EAST_1_PRICES */
  prices?: PriceTable;
  /** The meter's report of all work since the host started (the embedded host). @default - the sums of the rows */
  report?: () => CostReport;
}

/** Answers a request of a cost route (isCostPath). */
export async function handleCostRequest(req: HttpRequest, deps: CostRouteDeps): Promise<HttpResponse> {
  try {
    if (req.method !== 'GET') throw new ApiError('MethodNotAllowed', `${req.method} is not allowed here`);
    const m = NAMESPACED_COST_PATH.exec(req.path);
    const namespace = m ? m[1]! : undefined;
    if (namespace !== undefined && !DNS1123_LABEL.test(namespace))
      throw new ApiError('BadRequest', `namespace ${JSON.stringify(namespace)} is not a namespace name`);
    if (!m && req.path !== COST_PATH) throw new ApiError('NotFound', `${req.path} is not a cost route`);
    const now = deps.now();
    const asked = req.query?.['period'];
    if (asked !== undefined && !USAGE_PERIOD.test(asked)) throw new ApiError('BadRequest', `period ${JSON.stringify(asked)} is not a month (YYYY-MM)`);
    const period = asked ?? usagePeriod(now);
    const prices = deps.prices ?? US_EAST_1_PRICES;
    const records = await deps.store.listUsage(period, namespace);
    const top = namespace === undefined && deps.report && asked === undefined ? deps.report() : usageCostReport(records, period, now, prices);
    const body: CostResponse = { ...top, period, ...(namespace === undefined ? {} : { namespace }), clusters: clusterCosts(records, now, prices) };
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  } catch (err) {
    if (err instanceof ApiError) return statusResponse(err.status);
    throw err;
  }
}
