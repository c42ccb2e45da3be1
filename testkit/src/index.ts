export * from './process.js';
export * from './async.js';
export * from './kafka.js';
export * from './redis-server.js';
export * from './replicant.js';
export * from './redis-suite.js';
export * from './prng.js';
