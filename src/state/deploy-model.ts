import { z } from 'zod';
import { deployResultSchema } from './deploy-result-model.js';
import {
  type HealthcheckSpecPlain,
  healthcheckInputSchema,
  healthcheckSchema,
  toHealthcheck,
  toHealthcheckSpec,
} from './healthcheck-model.js';
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

// The load balancer's own rules (src/lb/lb-validation.ts), checked here too so a deploy the
// load balancer would refuse is refused when it is submitted, not halfway through.
const lbId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/,
    'letters, digits, _ . - (1 to 128, starting alphanumeric)',
  );
const lbPath = z
  .string()
  .regex(/^\/[A-Za-z0-9/_.~%-]{0,255}$/, "must start with '/' and hold only URL path characters");
const lbOptionValue = z.union([
  z
    .string()
    .max(4096)
    .refine((v) => !/[{}]/.test(v), 'may not contain { or }'),
  z.number(),
  z.boolean(),
]);

/** Deploy step, health and load-balancer settings, with Singularity's names. */
const deploySettingsInput = {
  healthcheck: healthcheckInputSchema.optional(),
  skipHealthchecksOnDeploy: z.boolean().optional(),
  deployHealthTimeoutSeconds: z.int().min(1).max(604_800).optional(),
  considerHealthyAfterRunningForSeconds: z.int().min(0).max(86_400).optional(),
  deployInstanceCountPerStep: z.int().min(1).max(100_000).optional(),
  deployStepWaitTimeMs: z.int().min(0).max(86_400_000).optional(),
  autoAdvanceDeploySteps: z.boolean().optional(),
  maxTaskRetries: z.int().min(0).max(100).optional(),
  serviceBasePath: lbPath.optional(),
  loadBalancerGroups: z.array(lbId).min(1, 'needs at least one group').max(20).optional(),
  loadBalancerOptions: z
    .record(z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'letters, digits, _'), lbOptionValue)
    .optional(),
  loadBalancerPortIndex: z.int().min(0).max(31).optional(),
  loadBalancerServiceIdOverride: lbId.optional(),
  loadBalancerAdditionalRoutes: z.array(lbPath).max(50).optional(),
  loadBalancerTemplate: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ or -')
    .optional(),
  loadBalancerDomains: z
    .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, 'must be a host name'))
    .max(50)
    .optional(),
};

/** The load-balancer fields of a deploy: refused on a request that is not loadBalanced. */
export const DEPLOY_LB_FIELDS = [
  'serviceBasePath',
  'loadBalancerGroups',
  'loadBalancerOptions',
  'loadBalancerPortIndex',
  'loadBalancerServiceIdOverride',
  'loadBalancerAdditionalRoutes',
  'loadBalancerTemplate',
  'loadBalancerDomains',
] as const;

/** A deploy as clients send it (Singularity's `SingularityDeploy`, the fields Thales knows). */
export const deployInputSchema = z
  .strictObject({
    requestId: requestIdSchema,
    id: deployIdSchema,
    command: z.string().min(1).max(4096),
    arguments: z.array(z.string().max(4096)).max(256).optional(),
    env: z.record(envName, z.string().max(16 * 1024)).optional(),
    resources: resourcesInputSchema.optional(),
    ...deploySettingsInput,
  })
  .superRefine((d, ctx) => {
    const numPorts = d.resources?.numPorts ?? 0;
    const hc = d.healthcheck;
    if (hc?.portNumber !== undefined && hc.portIndex !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['healthcheck', 'portNumber'],
        message: 'cannot be set together with healthcheck.portIndex',
      });
    } else if (hc && hc.portNumber === undefined) {
      const index = hc.portIndex ?? 0;
      if (index >= numPorts) {
        ctx.addIssue({
          code: 'custom',
          path: ['healthcheck', 'portIndex'],
          message: `is ${index}, beyond the ${numPorts} port(s) of resources.numPorts`,
        });
      }
    }
    if (d.loadBalancerPortIndex !== undefined && d.loadBalancerPortIndex >= numPorts) {
      ctx.addIssue({
        code: 'custom',
        path: ['loadBalancerPortIndex'],
        message: `is ${d.loadBalancerPortIndex}, beyond the ${numPorts} port(s) of resources.numPorts`,
      });
    }
  });
/** The input form of a deploy. */
export type DeployInput = z.infer<typeof deployInputSchema>;

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

/** Singularity's deploy defaults (`Docs/reference/deploy-defaults.md`). */
export const DEPLOY_DEFAULTS = {
  skipHealthchecksOnDeploy: false,
  deployHealthTimeoutSeconds: 120,
  considerHealthyAfterRunningForSeconds: 5,
  deployStepWaitTimeMs: 0,
  autoAdvanceDeploySteps: true,
  maxTaskRetries: 0,
  loadBalancerPortIndex: 0,
} as const;

/**
 * A deploy as stored in `/deploys/<requestId>/pending|active|history/<deployId>`. Fields added
 * after the first version are optional, so deploys stored before them still decode: read them
 * through {@link deploySettings}, which fills in the defaults. `deployInstanceCountPerStep`
 * absent means all instances in one step; the load-balancer fields stay absent unless given
 * (their presence is what the request check looks at).
 */
export const deploySchema = z.object({
  requestId: z.string(),
  id: z.string(),
  command: z.string(),
  arguments: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  resources: resourcesSchema,
  timestamp: z.number(),
  message: z.string().optional(),
  healthcheck: healthcheckSchema.optional(),
  skipHealthchecksOnDeploy: z.boolean().optional(),
  deployHealthTimeoutSeconds: z.number().optional(),
  considerHealthyAfterRunningForSeconds: z.number().optional(),
  deployInstanceCountPerStep: z.number().optional(),
  deployStepWaitTimeMs: z.number().optional(),
  autoAdvanceDeploySteps: z.boolean().optional(),
  maxTaskRetries: z.number().optional(),
  serviceBasePath: z.string().optional(),
  loadBalancerGroups: z.array(z.string()).optional(),
  loadBalancerOptions: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .optional(),
  loadBalancerPortIndex: z.number().optional(),
  loadBalancerServiceIdOverride: z.string().optional(),
  loadBalancerAdditionalRoutes: z.array(z.string()).optional(),
  loadBalancerTemplate: z.string().optional(),
  loadBalancerDomains: z.array(z.string()).optional(),
  /** Set once the deploy ended (active and history deploys). */
  deployResult: deployResultSchema.optional(),
});
/** A stored deploy. */
export type Deploy = z.infer<typeof deploySchema>;

/** A deploy's step and health settings with every default filled in. */
export interface DeploySettings {
  skipHealthchecksOnDeploy: boolean;
  deployHealthTimeoutSeconds: number;
  considerHealthyAfterRunningForSeconds: number;
  /** Undefined: all instances in one step. */
  deployInstanceCountPerStep: number | undefined;
  deployStepWaitTimeMs: number;
  autoAdvanceDeploySteps: boolean;
  maxTaskRetries: number;
  loadBalancerPortIndex: number;
}

/** The settings of a stored deploy, defaults filled in (deploys stored before them included). */
export function deploySettings(deploy: Deploy): DeploySettings {
  const d = DEPLOY_DEFAULTS;
  return {
    skipHealthchecksOnDeploy: deploy.skipHealthchecksOnDeploy ?? d.skipHealthchecksOnDeploy,
    deployHealthTimeoutSeconds: deploy.deployHealthTimeoutSeconds ?? d.deployHealthTimeoutSeconds,
    considerHealthyAfterRunningForSeconds:
      deploy.considerHealthyAfterRunningForSeconds ?? d.considerHealthyAfterRunningForSeconds,
    deployInstanceCountPerStep: deploy.deployInstanceCountPerStep,
    deployStepWaitTimeMs: deploy.deployStepWaitTimeMs ?? d.deployStepWaitTimeMs,
    autoAdvanceDeploySteps: deploy.autoAdvanceDeploySteps ?? d.autoAdvanceDeploySteps,
    maxTaskRetries: deploy.maxTaskRetries ?? d.maxTaskRetries,
    loadBalancerPortIndex: deploy.loadBalancerPortIndex ?? d.loadBalancerPortIndex,
  };
}

/** The health-check instructions of a task of `deploy` with the assigned `ports`. */
export function taskHealthcheckSpec(
  deploy: Deploy,
  ports: readonly number[],
): HealthcheckSpecPlain {
  const { considerHealthyAfterRunningForSeconds } = deploySettings(deploy);
  return toHealthcheckSpec(deploy.healthcheck, considerHealthyAfterRunningForSeconds, ports);
}

/** Largest stored deploy, so a task batch of 100 stays far under ZooKeeper's 1 MB packet. */
export const MAX_DEPLOY_BYTES = 64 * 1024;

/** Fills in defaults (Singularity: 1 cpu, 64 MB, no disk, no ports; the deploy defaults). */
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
    skipHealthchecksOnDeploy:
      d.skipHealthchecksOnDeploy ?? DEPLOY_DEFAULTS.skipHealthchecksOnDeploy,
    deployHealthTimeoutSeconds:
      d.deployHealthTimeoutSeconds ?? DEPLOY_DEFAULTS.deployHealthTimeoutSeconds,
    considerHealthyAfterRunningForSeconds:
      d.considerHealthyAfterRunningForSeconds ??
      DEPLOY_DEFAULTS.considerHealthyAfterRunningForSeconds,
    deployStepWaitTimeMs: d.deployStepWaitTimeMs ?? DEPLOY_DEFAULTS.deployStepWaitTimeMs,
    autoAdvanceDeploySteps: d.autoAdvanceDeploySteps ?? DEPLOY_DEFAULTS.autoAdvanceDeploySteps,
    maxTaskRetries: d.maxTaskRetries ?? DEPLOY_DEFAULTS.maxTaskRetries,
  };
  if (input.message !== undefined) deploy.message = input.message;
  if (d.healthcheck) deploy.healthcheck = toHealthcheck(d.healthcheck);
  if (d.deployInstanceCountPerStep !== undefined)
    deploy.deployInstanceCountPerStep = d.deployInstanceCountPerStep;
  for (const field of DEPLOY_LB_FIELDS) copyDefined(d, deploy, field);
  return deploy;
}

function copyDefined<K extends keyof DeployInput & keyof Deploy>(
  from: DeployInput,
  to: Deploy,
  key: K,
): void {
  if (from[key] !== undefined) (to as Record<K, unknown>)[key] = from[key];
}
