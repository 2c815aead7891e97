import { z } from 'zod';
import { deployIdSchema, requestIdSchema } from './request-model.js';

/** What one instance of a deploy needs (Singularity's `Resources`). */
export const resourcesInputSchema = z.strictObject({
  cpus: z.number().positive().max(1024).optional(),
  memoryMb: z
    .number()
    .positive()
    .max(4 * 1024 * 1024)
    .optional(),
  diskMb: z
    .number()
    .min(0)
    .max(64 * 1024 * 1024)
    .optional(),
  numPorts: z.int().min(0).max(32).optional(),
});

const envName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

/** A deploy as clients send it (the first version: command, arguments, env, resources). */
export const deployInputSchema = z.strictObject({
  requestId: requestIdSchema,
  id: deployIdSchema,
  command: z.string().min(1).max(4096),
  arguments: z.array(z.string().max(4096)).max(256).optional(),
  env: z.record(envName, z.string().max(16 * 1024)).optional(),
  resources: resourcesInputSchema.optional(),
});

/** `POST /api/deploys`: Singularity's SingularityDeployRequest. */
export const deployRequestInputSchema = z.strictObject({
  deploy: deployInputSchema,
  message: z.string().max(1000).optional(),
  unpauseOnSuccessfulDeploy: z.boolean().optional(),
});

/** Resources with Singularity's defaults filled in. */
export interface Resources {
  cpus: number;
  memoryMb: number;
  diskMb: number;
  numPorts: number;
}

const resourcesSchema = z.object({
  cpus: z.number(),
  memoryMb: z.number(),
  diskMb: z.number(),
  numPorts: z.number(),
});

/** A deploy as stored in `/deploys/<requestId>/pending|active|history/<deployId>`. */
export const deploySchema = z.object({
  requestId: z.string(),
  id: z.string(),
  command: z.string(),
  arguments: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  resources: resourcesSchema,
  timestamp: z.number(),
  message: z.string().optional(),
});
/** A stored deploy. */
export type Deploy = z.infer<typeof deploySchema>;

/** Largest stored deploy, so a task batch of 100 stays far under ZooKeeper's 1 MB packet. */
export const MAX_DEPLOY_BYTES = 64 * 1024;

/** Fills in defaults (Singularity: 1 cpu, 64 MB, no disk, no ports). */
export function toDeploy(
  input: z.infer<typeof deployRequestInputSchema>,
  now = Date.now(),
): Deploy {
  const d = input.deploy;
  const deploy: Deploy = {
    requestId: d.requestId,
    id: d.id,
    command: d.command,
    arguments: d.arguments ?? [],
    env: d.env ?? {},
    resources: {
      cpus: d.resources?.cpus ?? 1,
      memoryMb: d.resources?.memoryMb ?? 64,
      diskMb: d.resources?.diskMb ?? 0,
      numPorts: d.resources?.numPorts ?? 0,
    },
    timestamp: now,
  };
  if (input.message !== undefined) deploy.message = input.message;
  return deploy;
}
