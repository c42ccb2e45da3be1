export * from './errors.js';
export * from './scopes.js';
export * from './verifier.js';
export * from './credentials.js';
export * from './cluster-secret.js';
