export * from './scheduler-requeues.js';
