import { z } from 'zod';
import { lbRequestSchema, lbServiceSchema, lbUpstreamSchema } from './lb-validation.js';

/** One backend of a service. */
export type LbUpstream = z.infer<typeof lbUpstreamSchema>;
/** A service's load-balancer settings. */
export type LbService = z.infer<typeof lbServiceSchema>;
/** A validated load-balancer request. */
export type LbRequest = z.infer<typeof lbRequestSchema>;

/** Baragon's request states. WAITING covers every non-terminal internal step. */
export const LB_REQUEST_STATES = [
  'WAITING',
  'SUCCESS',
  'FAILED',
  'CANCELING',
  'CANCELED',
  'INVALID_REQUEST_NOOP',
] as const;
/** A request's state. */
export type LbRequestStateName = (typeof LB_REQUEST_STATES)[number];

/** The internal step, visible in GetRequest. */
export type LbRequestStep = 'QUEUED' | 'APPLY_SENT' | 'REVERTING' | 'DONE';

/** One lb-agent's part in a request. */
export type LbAgentStatus =
  'PENDING' | 'ACKED' | 'NACKED' | 'TIMED_OUT' | 'REVERTED' | 'REVERT_FAILED';

/** One agent's result, as GetRequest shows it. */
export interface LbAgentResult {
  agentId: string;
  group: string;
  status: LbAgentStatus;
  error?: string;
}

/** A request as stored at `/lb/requests/<id>`. */
export interface LbRequestRecord {
  requestId: string;
  request: LbRequest;
  state: LbRequestStateName;
  step: LbRequestStep;
  message?: string;
  agents: LbAgentResult[];
  submittedAt: number;
  updatedAt: number;
}

/** A service as stored at `/lb/services/<id>`: what every agent of its groups has applied. */
export interface LbServiceRecord {
  service: LbService;
  upstreams: LbUpstream[];
  /** Incremented by every successful request. */
  version: number;
  lastRequestId: string;
  updatedAt: number;
}

/** Terminal states: nothing more happens to such a request. */
export function isTerminalState(state: LbRequestStateName): boolean {
  return state !== 'WAITING' && state !== 'CANCELING';
}

/** Schema of a stored request (decoded leniently: the request body was validated on entry). */
export const lbRequestRecordSchema = z.object({
  requestId: z.string(),
  request: lbRequestSchema,
  state: z.enum(LB_REQUEST_STATES),
  step: z.enum(['QUEUED', 'APPLY_SENT', 'REVERTING', 'DONE']),
  message: z.string().optional(),
  agents: z.array(
    z.object({
      agentId: z.string(),
      group: z.string(),
      status: z.enum(['PENDING', 'ACKED', 'NACKED', 'TIMED_OUT', 'REVERTED', 'REVERT_FAILED']),
      error: z.string().optional(),
    }),
  ),
  submittedAt: z.number(),
  updatedAt: z.number(),
});

/** Schema of a stored service. */
export const lbServiceRecordSchema = z.object({
  service: lbServiceSchema,
  upstreams: z.array(lbUpstreamSchema),
  version: z.number(),
  lastRequestId: z.string(),
  updatedAt: z.number(),
});

/** The canonical JSON of a request body, for the same-id-same-body idempotency check. */
export function canonicalRequestJson(request: LbRequest): string {
  return JSON.stringify(sortKeys(request));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}
