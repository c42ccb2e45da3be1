export * from './config.js';
export { startDev, type DevServer } from './dev.js';
