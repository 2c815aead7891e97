import type { DeployInput } from './deploy-model.js';
import type { RequestInput } from './request-model.js';

/** A field the API accepted and stored but that does not (fully) take effect yet. */
export interface FieldWarning {
  field: string;
  message: string;
}

/**
 * Deploy fields accepted but not acted on yet, each with what happens instead. The answer to
 * a deploy that sets one carries a warning naming it, so no setting is ignored silently.
 * Remove an entry in the change that makes the leader act on the field.
 */
export const DEPLOY_FIELDS_NOT_ACTED_ON: Partial<Record<keyof DeployInput, string>> = {
  loadBalancerServiceIdOverride:
    'acted on; changing the service id between deploys leaves the old service (and its ' +
    'upstreams) in the load balancer: remove it through /api/lb',
};

/** Request fields accepted but not acted on yet (see {@link DEPLOY_FIELDS_NOT_ACTED_ON}). */
export const REQUEST_FIELDS_NOT_ACTED_ON: Partial<Record<keyof RequestInput, string>> = {
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
