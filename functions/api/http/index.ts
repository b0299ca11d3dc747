/** The HTTP API: one router for every host (API Gateway, the local server), Kubernetes Status errors. */
export { handleRequest, jsonRequest, statusResponse, type HttpRequest, type HttpResponse, type RouterDeps } from './router.js';
export { MAX_ADDON_BODY_BYTES, MAX_BODY_BYTES, maxBodyBytesFor } from './body.js';
export { ApiError, tooLarge, type Status, type StatusCause, type StatusReason } from './status.js';
export { mergePatch } from './merge-patch.js';
export { parseLabelSelector } from './selectors.js';
export { DEFAULT_MAX_MACHINE_DEPLOYMENT_REPLICAS, MAX_MACHINE_DEPLOYMENT_REPLICAS_ENV, parseReplicaLimit, type ApiLimits } from './limits.js';
