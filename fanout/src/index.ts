export * from './delta.js';
export * from './history-ring.js';
export * from './upstream.js';
export * from './replica.js';
// the gateway's local fan-out folds with it; the one implementation lives in protocol
export { applyMergePatch } from '@replicant/protocol';
export * from './link-codec.js';
export * from './link-server.js';
export * from './registry.js';
export * from './registry-memory.js';
export * from './registry-redis.js';
export * from './rendezvous.js';
