import { z } from 'zod';
import { PLACEMENTS, type Placement } from '../offers/index.js';

/** Singularity's request types. */
export const REQUEST_TYPES = ['SERVICE', 'WORKER', 'SCHEDULED', 'ON_DEMAND', 'RUN_ONCE'] as const;
/** One of {@link REQUEST_TYPES}. */
export type RequestType = (typeof REQUEST_TYPES)[number];

/** Singularity's request states. */
export const REQUEST_STATES = [
  'ACTIVE',
  'PAUSED',
  'SYSTEM_COOLDOWN',
  'DEPLOYING_TO_UNPAUSE',
  'FINISHED',
  'DELETING',
] as const;
/** One of {@link REQUEST_STATES}. */
export type RequestState = (typeof REQUEST_STATES)[number];

/** Request ids: letters, digits, `_` and `-`, as Singularity allows. */
export const requestIdSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -');

/**
 * Deploy ids: no `-`, so task ids (`<request>-<deploy>-…`) stay parseable, as in Singularity;
 * not `.` or `..`, which ZooKeeper refuses as a znode name.
 */
export const deployIdSchema = z
  .string()
  .min(1)
  .max(50)
  .regex(/^(?!\.\.?$)[A-Za-z0-9_.]+$/, 'must be letters, digits, _ or . (not . or ..)');

const attributeName = z.string().min(1).max(100);
const attributeValue = z.string().max(200);

/**
 * A request as clients send it (Singularity's `SingularityRequest`, with `agent` names and the
 * `slave` aliases accepted). Unknown fields are refused. Fields of the next issue (schedule)
 * are accepted and kept.
 */
export const requestInputSchema = z
  .strictObject({
    id: requestIdSchema,
    requestType: z.enum(REQUEST_TYPES),
    instances: z.int().min(0).max(100_000).optional(),
    rackSensitive: z.boolean().optional(),
    agentPlacement: z.enum(PLACEMENTS).optional(),
    slavePlacement: z.enum(PLACEMENTS).optional(),
    requiredAgentAttributes: z.record(attributeName, attributeValue).optional(),
    requiredSlaveAttributes: z.record(attributeName, attributeValue).optional(),
    allowedAgentAttributes: z
      .record(attributeName, z.union([attributeValue, z.array(attributeValue).max(100)]))
      .optional(),
    allowedSlaveAttributes: z
      .record(attributeName, z.union([attributeValue, z.array(attributeValue).max(100)]))
      .optional(),
    owners: z.array(z.string().min(1).max(200)).max(50).optional(),
    loadBalanced: z.boolean().optional(),
    schedule: z.string().max(200).optional(),
    scheduleTimeZone: z.string().max(100).optional(),
  })
  .refine((r) => !r.loadBalanced || r.requestType === 'SERVICE', {
    path: ['loadBalanced'],
    message: 'only a SERVICE request can be loadBalanced',
  });

/** The input form of a request. */
export type RequestInput = z.infer<typeof requestInputSchema>;

/** A request as stored: aliases resolved, defaults filled in. */
export interface Request {
  id: string;
  requestType: RequestType;
  instances: number;
  rackSensitive: boolean;
  agentPlacement: Placement;
  requiredAgentAttributes: Record<string, string>;
  allowedAgentAttributes: Record<string, string[]>;
  owners: string[];
  loadBalanced: boolean;
  schedule?: string;
  scheduleTimeZone?: string;
}

const requestSchema = z.object({
  id: z.string(),
  requestType: z.enum(REQUEST_TYPES),
  instances: z.number(),
  rackSensitive: z.boolean(),
  agentPlacement: z.enum(PLACEMENTS),
  requiredAgentAttributes: z.record(z.string(), z.string()),
  allowedAgentAttributes: z.record(z.string(), z.array(z.string())),
  owners: z.array(z.string()),
  loadBalanced: z.boolean(),
  schedule: z.string().optional(),
  scheduleTimeZone: z.string().optional(),
});

/** `/requests/<id>`: the request, its state, and when it last changed. */
export const requestRecordSchema = z.object({
  request: requestSchema,
  state: z.enum(REQUEST_STATES),
  timestamp: z.number(),
  /** Why the state is what it is (e.g. the cooldown's cause). */
  stateMessage: z.string().optional(),
});
/** What `/requests/<id>` holds. */
export type RequestRecord = z.infer<typeof requestRecordSchema>;

/** Resolves aliases and defaults. Types without instances (scheduled, run-once) get 1. */
export function toRequest(input: RequestInput): Request {
  const allowed = input.allowedAgentAttributes ?? input.allowedSlaveAttributes ?? {};
  const req: Request = {
    id: input.id,
    requestType: input.requestType,
    instances: input.instances ?? 1,
    rackSensitive: input.rackSensitive ?? false,
    agentPlacement: input.agentPlacement ?? input.slavePlacement ?? 'GREEDY',
    requiredAgentAttributes: input.requiredAgentAttributes ?? input.requiredSlaveAttributes ?? {},
    allowedAgentAttributes: Object.fromEntries(
      Object.entries(allowed).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]),
    ),
    owners: input.owners ?? [],
    loadBalanced: input.loadBalanced ?? false,
  };
  if (input.schedule !== undefined) req.schedule = input.schedule;
  if (input.scheduleTimeZone !== undefined) req.scheduleTimeZone = input.scheduleTimeZone;
  return req;
}

/** Whether tasks of this type are replaced when they exit (the long-running types). */
export function isLongRunning(type: RequestType): boolean {
  return type === 'SERVICE' || type === 'WORKER';
}

/** `PUT /api/requests/request/{id}/scale`: Singularity's SingularityScaleRequest. */
export const scaleInputSchema = z.strictObject({
  instances: z.int().min(0).max(100_000),
  message: z.string().max(1000).optional(),
  actionId: z.string().max(100).optional(),
  skipHealthchecks: z.boolean().optional(),
  durationMillis: z.int().min(0).optional(),
  bounce: z.boolean().optional(),
  incremental: z.boolean().optional(),
});

/** Optional bodies of pause, unpause and delete (Singularity's *Request shapes). */
export const actionInputSchema = z.strictObject({
  message: z.string().max(1000).optional(),
  actionId: z.string().max(100).optional(),
  killTasks: z.boolean().optional(),
  durationMillis: z.int().min(0).optional(),
  skipHealthchecks: z.boolean().optional(),
  deleteFromLoadBalancer: z.boolean().optional(),
});
