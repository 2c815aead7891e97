/** Logging and metrics shared by every daemon. */
export { makeLogger, type Logger } from './logger.js';
export { makeRegistry } from './registry.js';
