/** Leader election with fencing, and the switch for leader-only work. */
export {
  Leadership,
  type LeaderService,
  type LeadershipEvents,
  type LeadershipStatus,
  type Role,
} from './leadership.js';
export { LeaderLatch, type LatchIdentity } from './leader-latch.js';
export { FencedWriter, type FencedWriteResult } from './fenced-writer.js';
export { incrementTerm, readTerm, type TermRecord } from './leader-term.js';
export { readLeaderGrpcAddress } from './leader-address.js';
