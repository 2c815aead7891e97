import type { LbRequest__Output } from '../gen/thales/v1/LbRequest.js';
import type { LbRequestState } from '../gen/thales/v1/LbRequestState.js';
import type {
  LbService as LbServiceMessage,
  LbService__Output,
} from '../gen/thales/v1/LbService.js';
import type { LbServiceConfig } from '../gen/thales/v1/LbServiceConfig.js';
import type { LbServiceState } from '../gen/thales/v1/LbServiceState.js';
import type {
  LbUpstream as LbUpstreamMessage,
  LbUpstream__Output,
} from '../gen/thales/v1/LbUpstream.js';
import type { LbRequestRecord, LbService, LbServiceRecord, LbUpstream } from './lb-model.js';

/**
 * Turns a decoded protobuf request into the plain object the shared zod schema validates:
 * proto3 gives "" and [] for absent fields, which become absent here so defaults apply.
 */
export function fromProtoRequest(msg: LbRequest__Output): unknown {
  return dropEmpty({
    requestId: msg.requestId,
    service: msg.service ? fromProtoService(msg.service) : undefined,
    addUpstreams: msg.addUpstreams.map(fromProtoUpstream),
    removeUpstreams: msg.removeUpstreams.map(fromProtoUpstream),
    replaceUpstreams: msg.replaceUpstreams.map(fromProtoUpstream),
    action: msg.action,
    noValidate: msg.noValidate,
    noReload: msg.noReload,
    upstreamUpdateOnly: msg.upstreamUpdateOnly,
  });
}

/** A protobuf service as a plain object (not yet validated). */
export function fromProtoService(s: LbService__Output): Record<string, unknown> {
  return dropEmpty({
    serviceId: s.serviceId,
    owners: s.owners,
    basePath: s.basePath,
    additionalPaths: s.additionalPaths,
    groups: s.groups,
    options: s.options,
    templateName: s.templateName,
    domains: s.domains,
  });
}

function fromProtoUpstream(u: LbUpstream__Output): Record<string, unknown> {
  return dropEmpty({ upstream: u.upstream, requestId: u.requestId, rack: u.rack, group: u.group });
}

/** Drops "", false-free: keeps booleans and non-empty values; `groups: []` stays to be refused. */
function dropEmpty(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === '' || v === undefined || v === null) continue;
    if (Array.isArray(v) && v.length === 0 && k !== 'groups') continue;
    out[k] = v;
  }
  return out;
}

/** A service as a protobuf message. */
export function toProtoService(s: LbService): LbServiceMessage {
  return { ...s };
}

function toProtoUpstream(u: LbUpstream): LbUpstreamMessage {
  return { ...u };
}

/** A stored request as GetRequest answers it. */
export function toProtoRequestState(r: LbRequestRecord): LbRequestState {
  return {
    requestId: r.requestId,
    state: r.state,
    step: r.step,
    message: r.message ?? '',
    request: {
      ...r.request,
      service: toProtoService(r.request.service),
      addUpstreams: r.request.addUpstreams.map(toProtoUpstream),
      removeUpstreams: r.request.removeUpstreams.map(toProtoUpstream),
      replaceUpstreams: r.request.replaceUpstreams.map(toProtoUpstream),
    },
    agents: r.agents.map((a) => ({ ...a, error: a.error ?? '' })),
    submittedAt: r.submittedAt,
    updatedAt: r.updatedAt,
  };
}

/** A stored service as GetService answers it. */
export function toProtoServiceState(s: LbServiceRecord): LbServiceState {
  return {
    service: toProtoService(s.service),
    upstreams: s.upstreams.map(toProtoUpstream),
    version: s.version,
    lastRequestId: s.lastRequestId,
    updatedAt: s.updatedAt,
  };
}

/** What an agent must render for a service: its record, or its removal (`record` null). */
export function toServiceConfig(
  serviceId: string,
  record: LbServiceRecord | null,
): LbServiceConfig {
  if (!record) return { serviceId, version: 'deleted', deleted: true, upstreams: [] };
  return {
    serviceId,
    version: String(record.version),
    deleted: false,
    service: toProtoService(record.service),
    upstreams: record.upstreams.map(toProtoUpstream),
  };
}
