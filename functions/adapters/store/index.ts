/** The Store semantics shared by every adapter. */
export * from './base-store.js';
export * from './forwarding-store.js';
