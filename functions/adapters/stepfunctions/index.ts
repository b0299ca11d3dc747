export * from './local-workflows.js';
export * from './sfn-workflows.js';
