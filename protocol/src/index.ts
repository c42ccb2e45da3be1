export * from './errors.js';
export * from './docid.js';
export * from './seq.js';
export * from './frames.js';
export * from './json-codec.js';
export * from './binary-codec.js';
export { replicant } from './generated/replicant.js';
export * from './merge-patch.js';
