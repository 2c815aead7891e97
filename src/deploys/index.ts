/**
 * Deploys that keep services up: the pure deploy state machine (steps, health, load-balancer
 * ordering, rollback, bounce) and what starting one needs. The scheduler loop drives it:
 * build a {@link DeploySnapshot}, call {@link planDeploy}, persist the progress, act.
 */
export { planDeploy } from './deploy-state-machine.js';
export { startBounce, startDeploy, type StartOptions, type StepSettings } from './deploy-start.js';
export {
  deployLbRequestId,
  isLbOutcomeFinal,
  lbPresence,
  lbRetryDelayMs,
  type LbRequestTouch,
} from './deploy-lb.js';
export { isReady, isServing } from './deploy-goal.js';
export type {
  DeployAction,
  DeployMachineSettings,
  DeployPlan,
  DeploySnapshot,
  DeployTaskView,
  FinishAction,
  KillAction,
  LaunchAction,
  LbAction,
  LbPresence,
  LbRequestOutcome,
} from './deploy-plan-types.js';
