export * from './materializer.js';
export * from './checkpointer.js';
export * from './origin.js';
export * from './http.js';
export * from './history.js';
export * from './server-api.js';
export * from './presence.js';
export * from './ingest.js';
