import type { DeployInput } from './deploy-model.js';
import type { RequestInput } from './request-model.js';

/** A field the API accepted and stored but that does not (fully) take effect yet. */
export interface FieldWarning {
  field: string;
  message: string;
}

const STEPS_NOT_DRIVEN =
  'stored; the leader does not drive stepped deploys yet, so a deploy still starts all its ' +
  'instances at once and replaces the old ones once they run';
const LB_NOT_WIRED = 'stored; the leader does not submit load-balancer requests for deploys yet';
const HEALTH_NOT_AWAITED =
  'health checks run on the agent and their results are kept on the task ' +
  '(healthcheckResults), but deploys do not wait for them yet';

/**
 * Deploy fields accepted but not acted on yet, each with what happens instead. The answer to
 * a deploy that sets one carries a warning naming it, so no setting is ignored silently.
 * Remove an entry in the change that makes the leader act on the field.
 */
export const DEPLOY_FIELDS_NOT_ACTED_ON: Partial<Record<keyof DeployInput, string>> = {
  healthcheck: HEALTH_NOT_AWAITED,
  considerHealthyAfterRunningForSeconds: HEALTH_NOT_AWAITED,
  skipHealthchecksOnDeploy: STEPS_NOT_DRIVEN,
  deployHealthTimeoutSeconds: STEPS_NOT_DRIVEN,
  deployInstanceCountPerStep: STEPS_NOT_DRIVEN,
  deployStepWaitTimeMs: STEPS_NOT_DRIVEN,
  autoAdvanceDeploySteps: STEPS_NOT_DRIVEN,
  maxTaskRetries: STEPS_NOT_DRIVEN,
  serviceBasePath: LB_NOT_WIRED,
  loadBalancerGroups: LB_NOT_WIRED,
  loadBalancerOptions: LB_NOT_WIRED,
  loadBalancerPortIndex: LB_NOT_WIRED,
  loadBalancerServiceIdOverride: LB_NOT_WIRED,
  loadBalancerAdditionalRoutes: LB_NOT_WIRED,
  loadBalancerTemplate: LB_NOT_WIRED,
  loadBalancerDomains: LB_NOT_WIRED,
};

/** Request fields accepted but not acted on yet (see {@link DEPLOY_FIELDS_NOT_ACTED_ON}). */
export const REQUEST_FIELDS_NOT_ACTED_ON: Partial<Record<keyof RequestInput, string>> = {
  loadBalanced:
    'stored; the leader does not put its tasks into the load balancer yet (submit ' +
    'load-balancer requests through /api/lb until it does)',
  schedule: 'stored; SCHEDULED requests are not triggered yet',
  scheduleTimeZone: 'stored; SCHEDULED requests are not triggered yet',
};

/** Warnings for the fields of a validated deploy that are set but not acted on yet. */
export function deployWarnings(deploy: DeployInput): FieldWarning[] {
  return warningsFor(deploy, DEPLOY_FIELDS_NOT_ACTED_ON, 'deploy.');
}

/** Warnings for the fields of a validated request that are set but not acted on yet. */
export function requestWarnings(request: RequestInput): FieldWarning[] {
  // `loadBalanced: false` asks for nothing that is missing.
  const set = request.loadBalanced ? request : { ...request, loadBalanced: undefined };
  return warningsFor(set, REQUEST_FIELDS_NOT_ACTED_ON, '');
}

function warningsFor<T extends object>(
  input: T,
  table: Partial<Record<keyof T, string>>,
  prefix: string,
): FieldWarning[] {
  const out: FieldWarning[] = [];
  for (const [field, message] of Object.entries(table) as [keyof T & string, string][]) {
    if (input[field] !== undefined) out.push({ field: `${prefix}${field}`, message });
  }
  return out;
}
