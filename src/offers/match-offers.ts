/**
 * The single-threaded matcher: validate, encode, run the pipeline over every offer, explain
 * what stayed pending. Also what the pool falls back to for small inputs.
 */
import { encodeCycle } from './snapshot-encoder.js';
import { MatchPipeline } from './match-pipeline.js';
import { toMatchResult } from './match-result.js';
import {
  resolveMatchOptions,
  type MatchInput,
  type MatchOptions,
  type MatchResult,
} from './offer-model.js';
import { validateMatchOptions, validateOffers } from './offer-validation.js';

/** Offer indices 0..n-1. */
export function allOffers(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/**
 * Matches pending tasks to offers on the calling thread. Pure: the same input and options
 * give the same result. Throws an `OfferInputError` (and places nothing) on bad input.
 */
export function matchOffers(input: MatchInput, options: MatchOptions = {}): MatchResult {
  validateMatchOptions(options);
  const valid = validateOffers(input);
  const resolved = resolveMatchOptions(options);
  const { snap, refs } = encodeCycle(valid, resolved); // validates the tasks as it reads them
  const pipeline = new MatchPipeline(snap, resolved, resolved.seed);
  const candidates = allOffers(snap.offerCount);
  const outcome = pipeline.run(snap.taskOrder, candidates);
  const reasons = pipeline.explain(outcome.unplaced, candidates);
  return toMatchResult(refs, outcome.placed, outcome.unplaced, reasons);
}
