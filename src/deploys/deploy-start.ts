import type { DeployProgress } from '../state/index.js';

/** Step settings copied into the progress when a deploy starts (Singularity does the same). */
export interface StepSettings {
  /** Undefined: every instance in one step. */
  deployInstanceCountPerStep: number | undefined;
  deployStepWaitTimeMs: number;
  autoAdvanceDeploySteps: boolean;
}

/** What starting a deploy or a bounce needs. */
export interface StartOptions {
  requestId: string;
  deployId: string;
  instances: number;
  steps: StepSettings;
  now: number;
}

function initial(
  o: StartOptions,
  kind: DeployProgress['kind'],
  previousDeployId: string | null,
  replacing: string[],
): DeployProgress {
  const perStep = Math.max(1, o.steps.deployInstanceCountPerStep ?? o.instances);
  return {
    kind,
    requestId: o.requestId,
    deployId: o.deployId,
    previousDeployId,
    replacing,
    phase: 'DEPLOYING',
    currentDeployState: 'WAITING',
    step: 1,
    targetActiveInstances: Math.min(o.instances, perStep),
    currentActiveInstances: 0,
    deployInstanceCountPerStep: perStep,
    deployStepWaitTimeMs: o.steps.deployStepWaitTimeMs,
    autoAdvanceDeploySteps: o.steps.autoAdvanceDeploySteps,
    stepComplete: false,
    stepStartedAt: o.now,
    stepCompletedAt: null,
    failedDeployTasks: [],
    deployFailures: [],
    lbOp: null,
    lbRequests: 0,
    lbRetryAt: null,
    lbConsecutiveFailures: 0,
    rollback: null,
    deployResult: null,
    startedAt: o.now,
    timestamp: o.now,
  };
}

/**
 * The progress of a new deploy of `deployId` replacing the tasks of `previousDeployId` (null:
 * the request's first deploy). The leader writes it when it takes the pending deploy up.
 */
export function startDeploy(o: StartOptions & { previousDeployId: string | null }): DeployProgress {
  return initial(o, 'DEPLOY', o.previousDeployId, []);
}

/**
 * The progress of a bounce: a rolling restart of `deployId`'s own tasks (`replacing`, the
 * tasks active when it starts) through the same steps. `askedAt`, the intent's time, becomes
 * its marker's timestamp (the asker waits for that marker's result).
 */
export function startBounce(
  o: StartOptions & { replacing: readonly string[]; askedAt?: number },
): DeployProgress {
  const progress = initial(o, 'BOUNCE', null, [...o.replacing]);
  return o.askedAt === undefined ? progress : { ...progress, askedAt: o.askedAt };
}
