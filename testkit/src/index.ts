export * from './kafka-mock.js';
export * from './redis-server.js';
