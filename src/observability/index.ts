/** Logging and metrics shared by every daemon, and the fatal line of a daemon's crash. */
export { makeLogger, type Logger } from './logger.js';
export { exitOnProcessFault, FAULT_EXIT_CODE, type FaultableProcess } from './process-faults.js';
export { makeRegistry } from './registry.js';
