export * from './process.js';
export * from './async.js';
export * from './kafka.js';
export * from './kafka-mock.js';
export * from './redis-server.js';
