import { z } from 'zod';
import { LbError } from './lb-error.js';

/** Largest request body accepted, in bytes of JSON (well under ZooKeeper's 256 KB znode cap). */
export const MAX_LB_REQUEST_BYTES = 64 * 1024;

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/;
/** Path characters safe to put in an nginx `location` without quoting. */
const PATH = /^\/[A-Za-z0-9/_.~%-]{0,255}$/;

const idSchema = z.string().regex(ID, 'letters, digits, _ . - (1 to 128, starting alphanumeric)');

const hostPortSchema = z.string().refine((s) => {
  const i = s.lastIndexOf(':');
  if (i <= 0) return false;
  const port = Number(s.slice(i + 1));
  return HOST.test(s.slice(0, i)) && /^\d{1,5}$/.test(s.slice(i + 1)) && port > 0 && port < 65536;
}, 'must be host:port with a port from 1 to 65535');

const pathSchema = z.string().regex(PATH, "must start with '/' and hold only URL path characters");

/** One upstream (a backend `host:port`) and where it came from. */
export const lbUpstreamSchema = z
  .object({
    upstream: hostPortSchema,
    requestId: z.string().max(128).optional(),
    rack: z.string().max(128).optional(),
    group: z.string().max(128).optional(),
  })
  .strict();

/** A service as the load balancers see it (Baragon's `BaragonService`). */
export const lbServiceSchema = z
  .object({
    serviceId: idSchema,
    owners: z.array(z.string().max(256)).max(50).default([]),
    basePath: pathSchema,
    additionalPaths: z.array(pathSchema).max(50).default([]),
    groups: z.array(idSchema).min(1, 'needs at least one group').max(20),
    options: z
      .record(
        z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'option names: letters, digits, _'),
        z
          .string()
          .max(4096)
          .refine((v) => !/[{}]/.test(v), 'option values may not contain { or }'),
      )
      .default({}),
    templateName: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .default('default'),
    domains: z.array(z.string().regex(HOST, 'must be a host name')).max(50).default([]),
  })
  .strict();

const upstreamList = z.array(lbUpstreamSchema).max(5_000).default([]);

/** A load-balancer request (Baragon's `BaragonRequest`). */
export const lbRequestSchema = z
  .object({
    requestId: idSchema,
    service: lbServiceSchema,
    addUpstreams: upstreamList,
    removeUpstreams: upstreamList,
    replaceUpstreams: upstreamList,
    action: z.enum(['UPDATE', 'DELETE', 'RELOAD']).default('UPDATE'),
    noValidate: z.boolean().default(false),
    noReload: z.boolean().default(false),
    upstreamUpdateOnly: z.boolean().default(false),
  })
  .strict();

/**
 * Validates a request body from HTTP or gRPC: too large or invalid → INVALID_ARGUMENT naming
 * the first offending field. Nothing is stored before this passes.
 */
export function parseLbRequest(input: unknown): z.infer<typeof lbRequestSchema> {
  const size = Buffer.byteLength(JSON.stringify(input ?? null));
  if (size > MAX_LB_REQUEST_BYTES) {
    throw new LbError(
      'INVALID_ARGUMENT',
      `request: body is ${size} bytes, over the limit of ${MAX_LB_REQUEST_BYTES}`,
      { field: 'request' },
    );
  }
  const result = lbRequestSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const keys = issue && 'keys' in issue ? (issue.keys as string[]) : [];
  const field = [...(issue?.path ?? []), ...keys.slice(0, 1)].join('.') || 'request';
  throw new LbError('INVALID_ARGUMENT', `${field}: ${issue?.message ?? 'invalid'}`, { field });
}

/** Validates an id given in a path or a lookup message. */
export function parseLbId(value: unknown, field: string): string {
  const result = idSchema.safeParse(value);
  if (!result.success) throw new LbError('INVALID_ARGUMENT', `${field}: invalid id`, { field });
  return result.data;
}
