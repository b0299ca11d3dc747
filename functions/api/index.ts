/** The clusterless resource API: kinds, schemas, validation and the HTTP router. */
export * from './common.js';
export * from './meta.js';
export * from './kind.js';
export * from './kinds.js';
export * from './template.js';
export * from './cluster.js';
export * from './control-plane.js';
export * from './machine-class.js';
export * from './machine-deployment.js';
export * from './machine-set.js';
export * from './machine.js';
export * from './machine-health-check.js';
export * from './cluster-resource-set.js';
export * from './validate.js';
export * from './cidr.js';
export * from './openapi.js';
