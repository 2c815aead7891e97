/**
 * Pure pieces of the lb-agent's batching: what a batch of updates changes, what each update
 * is answered, and a service's rendered files.
 */
import type { LbAck } from '../../gen/thales/v1/LbAck.js';
import type { LbGroupUpdate__Output } from '../../gen/thales/v1/LbGroupUpdate.js';
import type { LbServiceConfig__Output } from '../../gen/thales/v1/LbServiceConfig.js';
import { fromProtoService } from '../lb-proto-mapping.js';
import { lbServiceSchema, lbUpstreamSchema } from '../lb-validation.js';
import type { ServiceChange, ServiceOutcome } from './batch-applier.js';
import { DEFAULT_TEMPLATE, type NginxTemplate, renderService } from './nginx-renderer.js';

/** An update waiting to be applied, with the function that answers it on its stream. */
export interface PendingUpdate {
  update: LbGroupUpdate__Output;
  answer: (ack: LbAck) => void;
  /** When it arrived (wall-clock ms, for stage timing). */
  receivedAt: number;
}

/** A batch of updates merged into what to apply. */
export interface MergedBatch {
  changes: ServiceChange[];
  /** `nginx -t` unless every update of the batch said noValidate. */
  validate: boolean;
  /** Reload unless every update said noReload. */
  reload: boolean;
  /** The batch holds a full state (the agent then counts as bootstrapped once it applied). */
  full: boolean;
}

/**
 * Merges the updates of one batch, in arrival order: the last full state replaces
 * everything (each of `present` — applied or on disk — that it does not list is removed),
 * and a later update of a service wins over an earlier one.
 */
export function mergeUpdates(
  updates: readonly LbGroupUpdate__Output[],
  present: Iterable<string>,
  toChange: (config: LbServiceConfig__Output) => ServiceChange,
): MergedBatch {
  const lastFull = updates.map((u) => u.full).lastIndexOf(true);
  const changes = new Map<string, ServiceChange>();
  if (lastFull >= 0) {
    for (const id of present) changes.set(id, { serviceId: id, version: 'deleted', files: null });
  }
  for (const u of updates.slice(Math.max(lastFull, 0))) {
    for (const s of u.services) changes.set(s.serviceId, toChange(s));
  }
  return {
    changes: [...changes.values()],
    validate: updates.some((u) => !u.noValidate),
    reload: updates.some((u) => !u.noReload),
    full: lastFull >= 0,
  };
}

/**
 * The ACK (or NACK) of one update of an applied batch: a result for each of its services
 * (every service of the batch for a full state) with the version now applied.
 */
export function ackFor(
  update: LbGroupUpdate__Output,
  results: ReadonlyMap<string, ServiceOutcome>,
  versionOf: (serviceId: string) => string | undefined,
): LbAck {
  const mine = update.full ? [...results.keys()] : update.services.map((s) => s.serviceId);
  const list = mine.map((id) => {
    const r = results.get(id) ?? { ok: true };
    return { serviceId: id, version: versionOf(id) ?? 'deleted', ok: r.ok, error: r.error ?? '' };
  });
  const failed = list.filter((r) => !r.ok);
  return {
    nonce: update.nonce,
    ok: failed.length === 0,
    error: failed.map((f) => `${f.serviceId}: ${f.error}`).join('\n'),
    results: list,
  };
}

/** The NACK of every update of a batch that could not be applied at all. */
export function nackAll(batch: readonly PendingUpdate[], error: string): void {
  for (const p of batch) p.answer({ nonce: p.update.nonce, ok: false, error, results: [] });
}

/**
 * A service's config as files to write (validated again: the lb-agent trusts no input), its
 * removal, or the reason it cannot be rendered (e.g. an unknown template).
 */
export function toServiceChange(
  s: LbServiceConfig__Output,
  templates: Record<string, NginxTemplate> | undefined,
  dynamicUpstreams: boolean,
): ServiceChange {
  if (s.deleted || !s.service) return { serviceId: s.serviceId, version: s.version, files: null };
  try {
    const service = lbServiceSchema.parse(fromProtoService(s.service));
    const upstreams = s.upstreams.map((u) => lbUpstreamSchema.parse({ upstream: u.upstream }));
    return {
      serviceId: s.serviceId,
      version: s.version,
      files: renderService(
        service,
        upstreams,
        { default: DEFAULT_TEMPLATE, ...templates },
        dynamicUpstreams,
      ),
    };
  } catch (err) {
    const renderError = err instanceof Error ? err.message : String(err);
    return { serviceId: s.serviceId, version: s.version, files: null, renderError };
  }
}
