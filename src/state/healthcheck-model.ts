import { z } from 'zod';

/**
 * Singularity's `HealthcheckOptions`, with its names and defaults. Without `uri` the check is
 * a TCP connect to the port (a Thales extension: Singularity requires a uri). HTTP2 and
 * HTTPS2 are checked over HTTP/2 (cleartext with prior knowledge, or TLS with ALPN).
 */
export const HEALTHCHECK_PROTOCOLS = ['HTTP', 'HTTPS', 'HTTP2', 'HTTPS2'] as const;
/** One of {@link HEALTHCHECK_PROTOCOLS}. */
export type HealthcheckProtocol = (typeof HEALTHCHECK_PROTOCOLS)[number];

/** Singularity's `HealthcheckMethod`. */
export const HEALTHCHECK_METHODS = ['GET', 'POST'] as const;

/** Defaults (Singularity's configuration defaults; `maxRetries` 0 = one failure is enough). */
export const HEALTHCHECK_DEFAULTS = {
  portIndex: 0,
  protocol: 'HTTP',
  method: 'GET',
  startupDelaySeconds: 0,
  startupTimeoutSeconds: 45,
  startupIntervalSeconds: 2,
  intervalSeconds: 5,
  responseTimeoutSeconds: 5,
  maxRetries: 0,
} as const;

/** An HTTP path with an optional query: what nginx and Singularity expect a uri to be. */
const uriSchema = z
  .string()
  .max(2048)
  .regex(/^\/[\x21-\x7e]*$/, "must start with '/' and hold no spaces or control characters");

const seconds = (min: number) => z.int().min(min).max(86_400);

/** `deploy.healthcheck` as clients send it. */
export const healthcheckInputSchema = z.strictObject({
  uri: uriSchema.optional(),
  portIndex: z.int().min(0).max(31).optional(),
  portNumber: z.int().min(1).max(65_535).optional(),
  protocol: z.enum(HEALTHCHECK_PROTOCOLS).optional(),
  method: z.enum(HEALTHCHECK_METHODS).optional(),
  startupDelaySeconds: seconds(0).optional(),
  startupTimeoutSeconds: seconds(1).optional(),
  startupIntervalSeconds: seconds(1).optional(),
  intervalSeconds: seconds(1).optional(),
  responseTimeoutSeconds: seconds(1).optional(),
  maxRetries: z.int().min(0).max(1000).optional(),
  failureStatusCodes: z.array(z.int().min(100).max(599)).max(100).optional(),
});
/** The input form of a health check. */
export type HealthcheckInput = z.infer<typeof healthcheckInputSchema>;

/** A health check as stored in a deploy (defaults resolved). */
export const healthcheckSchema = z.object({
  uri: z.string().optional(),
  portIndex: z.number().optional(),
  portNumber: z.number().optional(),
  protocol: z.enum(HEALTHCHECK_PROTOCOLS),
  method: z.enum(HEALTHCHECK_METHODS),
  startupDelaySeconds: z.number(),
  startupTimeoutSeconds: z.number(),
  startupIntervalSeconds: z.number(),
  intervalSeconds: z.number(),
  responseTimeoutSeconds: z.number(),
  maxRetries: z.number(),
  failureStatusCodes: z.array(z.number()),
});
/** A stored health check. */
export type Healthcheck = z.infer<typeof healthcheckSchema>;

/** Fills in Singularity's defaults; `portIndex` stays unset when `portNumber` is given. */
export function toHealthcheck(input: HealthcheckInput): Healthcheck {
  const d = HEALTHCHECK_DEFAULTS;
  const out: Healthcheck = {
    protocol: input.protocol ?? d.protocol,
    method: input.method ?? d.method,
    startupDelaySeconds: input.startupDelaySeconds ?? d.startupDelaySeconds,
    startupTimeoutSeconds: input.startupTimeoutSeconds ?? d.startupTimeoutSeconds,
    startupIntervalSeconds: input.startupIntervalSeconds ?? d.startupIntervalSeconds,
    intervalSeconds: input.intervalSeconds ?? d.intervalSeconds,
    responseTimeoutSeconds: input.responseTimeoutSeconds ?? d.responseTimeoutSeconds,
    maxRetries: input.maxRetries ?? d.maxRetries,
    failureStatusCodes: input.failureStatusCodes ?? [],
  };
  if (input.uri !== undefined) out.uri = input.uri;
  if (input.portNumber !== undefined) out.portNumber = input.portNumber;
  else out.portIndex = input.portIndex ?? d.portIndex;
  return out;
}

/**
 * What the agent is told to do for one task (the TaskSpec's `healthcheck`): `kind` HTTP,
 * HTTPS, HTTP2, HTTPS2 or TCP checks `port`; RUNNING means "healthy once running for
 * `considerHealthyAfterMs`" (no health check configured). Times in milliseconds.
 */
export interface HealthcheckSpecPlain {
  kind: HealthcheckProtocol | 'TCP' | 'RUNNING';
  uri: string;
  method: string;
  port: number;
  startupDelayMs: number;
  startupTimeoutMs: number;
  startupIntervalMs: number;
  intervalMs: number;
  responseTimeoutMs: number;
  maxRetries: number;
  failureStatusCodes: number[];
  considerHealthyAfterMs: number;
}

/**
 * The agent's instructions for a task of a deploy with `healthcheck` (or none) and the task's
 * assigned `ports` (what the TaskSpec of a Launch carries). The port is `portNumber`, else the `portIndex`th assigned port (validated
 * against `numPorts` when the deploy was accepted).
 */
export function toHealthcheckSpec(
  healthcheck: Healthcheck | undefined,
  considerHealthyAfterRunningForSeconds: number,
  ports: readonly number[],
): HealthcheckSpecPlain {
  const considerHealthyAfterMs = considerHealthyAfterRunningForSeconds * 1000;
  if (!healthcheck) {
    return {
      ...HEALTHCHECK_SPEC_NONE,
      considerHealthyAfterMs,
    };
  }
  const port = healthcheck.portNumber ?? ports[healthcheck.portIndex ?? 0] ?? 0;
  return {
    kind: healthcheck.uri === undefined ? 'TCP' : healthcheck.protocol,
    uri: healthcheck.uri ?? '',
    method: healthcheck.method,
    port,
    startupDelayMs: healthcheck.startupDelaySeconds * 1000,
    startupTimeoutMs: healthcheck.startupTimeoutSeconds * 1000,
    startupIntervalMs: healthcheck.startupIntervalSeconds * 1000,
    intervalMs: healthcheck.intervalSeconds * 1000,
    responseTimeoutMs: healthcheck.responseTimeoutSeconds * 1000,
    maxRetries: healthcheck.maxRetries,
    failureStatusCodes: [...healthcheck.failureStatusCodes],
    considerHealthyAfterMs,
  };
}

const HEALTHCHECK_SPEC_NONE: HealthcheckSpecPlain = {
  kind: 'RUNNING',
  uri: '',
  method: '',
  port: 0,
  startupDelayMs: 0,
  startupTimeoutMs: 0,
  startupIntervalMs: 0,
  intervalMs: 0,
  responseTimeoutMs: 0,
  maxRetries: 0,
  failureStatusCodes: [],
  considerHealthyAfterMs: 0,
};
