/** The pure decisions of a FleetUpgrade: the frozen plan (clusters, waves), each cluster's progress, the halt rules. */
export * from './plan.js';
export * from './progress.js';
