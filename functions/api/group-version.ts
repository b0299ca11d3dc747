/**
 * The API groups and versions as constants alone: what the CLI, the kubectl door's tokens and the authorizer need,
 * without the schemas of common.ts and event.ts (zod builds those at import, which a `clusterless token` run by
 * kubectl for every request, or a cold authorizer, would pay for nothing).
 */
export const GROUP = 'clusterless.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const EVENTS_GROUP = 'events.k8s.io';
export const EVENTS_VERSION = 'v1';
