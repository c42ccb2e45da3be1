export * from './delta.js';
export * from './history-ring.js';
export * from './upstream.js';
export * from './replica.js';
export { applyMergePatch } from '@replicant/origin';
