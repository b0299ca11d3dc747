export * from './planner.js';
export * from './binding.js';
