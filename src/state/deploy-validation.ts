import { type Deploy, DEPLOY_DEFAULTS, DEPLOY_LB_FIELDS } from './deploy-model.js';
import type { Request } from './request-model.js';
import { StateError } from './state-error.js';

/**
 * The checks of a deploy that need its request: load-balancer fields only on a loadBalanced
 * request, and on one the fields a load-balancer service needs (Singularity's
 * SingularityValidator does the same). Throws an INVALID_ARGUMENT naming the field; the store
 * calls it before writing anything.
 */
export function checkDeployForRequest(deploy: Deploy, request: Request): void {
  if (!request.loadBalanced) {
    const given = DEPLOY_LB_FIELDS.find((f) => deploy[f] !== undefined);
    if (given !== undefined) {
      refuse(given, `request ${request.id} is not loadBalanced`);
    }
    return;
  }
  if (deploy.serviceBasePath === undefined) {
    refuse('serviceBasePath', `is required: request ${request.id} is loadBalanced`);
  }
  if (!deploy.loadBalancerGroups?.length) {
    refuse('loadBalancerGroups', `is required: request ${request.id} is loadBalanced`);
  }
  const index = deploy.loadBalancerPortIndex ?? DEPLOY_DEFAULTS.loadBalancerPortIndex;
  if (index >= deploy.resources.numPorts) {
    refuse(
      'loadBalancerPortIndex',
      `is ${index}, beyond the ${deploy.resources.numPorts} port(s) of resources.numPorts ` +
        '(a loadBalanced deploy needs a port for its upstreams)',
    );
  }
}

function refuse(field: string, message: string): never {
  throw new StateError('INVALID_ARGUMENT', `deploy.${field}: ${message}`, {
    field: `deploy.${field}`,
  });
}
