/**
 * Offer matching: the public surface of src/offers.
 *
 * `matchOffers(input, options)` is the pure, single-threaded matcher; `OfferMatcherPool` runs
 * the same pipeline on a Piscina worker pool for large cycles, re-checking every worker
 * proposal on the calling thread. Both throw `OfferInputError` on bad input and place nothing.
 */
export type {
  AgentState,
  Assignment,
  MatchInput,
  MatchOptions,
  MatchResult,
  Offer,
  PendingTask,
  Placement,
  PortRange,
  RejectionReason,
  RunningTaskRef,
  ScoreWeights,
  TaskKey,
  TaskResources,
  UnplacedTask,
} from './offer-model.js';
export {
  AGENT_STATES,
  PLACEMENTS,
  REJECTION_REASONS,
  formatTaskKey,
  resolveMatchOptions,
} from './offer-model.js';
export { OfferInputError } from './offer-validation.js';
export { matchOffers } from './match-offers.js';
export {
  DEFAULT_MIN_TASKS_FOR_POOL,
  OfferMatcherPool,
  type CycleTimings,
  type OfferMatcherPoolOptions,
} from './offer-pool.js';
