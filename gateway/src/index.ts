export * from './session.js';
export * from './local-fanout.js';
export * from './gateway.js';
export * from './origin-client.js';
export * from './remote-upstream.js';
export * from './publish-rate.js';
export * from './connections.js';
export * from './control.js';
