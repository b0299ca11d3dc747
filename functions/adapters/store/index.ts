/** The Store semantics shared by every adapter. */
export * from './base-store.js';
export * from './forwarding-store.js';
export * from './event-window.js';
export * from './change-recording-store.js';
