import type { LbRequest, LbServiceRecord, LbUpstream } from './lb-model.js';

/**
 * The upstreams a service has after `request` (Baragon's rules): a non-empty replace list
 * replaces everything; otherwise removals, then additions, keyed by `host:port`. Removing an
 * upstream that is not there is not an error. Order is kept stable: existing first.
 */
export function nextUpstreams(existing: readonly LbUpstream[], request: LbRequest): LbUpstream[] {
  if (request.replaceUpstreams.length > 0) return dedupe(request.replaceUpstreams);
  const removed = new Set(request.removeUpstreams.map((u) => u.upstream));
  const kept = existing.filter((u) => !removed.has(u.upstream));
  return dedupe([...kept, ...request.addUpstreams]);
}

/** Keeps the last entry for each `host:port`, at the position of its first appearance. */
function dedupe(list: readonly LbUpstream[]): LbUpstream[] {
  const byKey = new Map<string, LbUpstream>();
  for (const u of list) byKey.set(u.upstream, u);
  return [...byKey.values()];
}

/** Every path a service claims: its base path and additional paths. */
export function claimedPaths(service: LbServiceRecord['service']): string[] {
  return [service.basePath, ...service.additionalPaths];
}
