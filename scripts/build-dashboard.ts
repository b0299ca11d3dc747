// Bundles the dashboard page (dashboard/web) into build/dashboard, which the embedded host and `clusterless dashboard`
// serve. `npm start` runs it first; a host that finds no bundle builds one in memory.
import { DASHBOARD_BUILD_DIR, writeDashboard } from '../dashboard/assets.js';

await writeDashboard();
console.error(`dashboard: built into ${DASHBOARD_BUILD_DIR}`);
