/** A TCP port on 127.0.0.1 that was free a moment ago: the embedded host's own (local/process/kube.ts). */
export { freePort } from '../../local/process/kube.js';
