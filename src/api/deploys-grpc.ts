/**
 * The `Scheduler` RPCs of deploy commands, deploy history, bounce and scheduled tasks: the
 * same DeploysApi and ScheduledTasksApi (so the same validation and error codes) as their
 * HTTP routes, mapped to and from protobuf.
 */
import type { SchedulerHandlers } from '../gen/thales/v1/Scheduler.js';
import type { DeploysApi } from './deploys-api.js';
import { copySet } from './deploys-proto.js';
import type { ScheduledTasksApi } from './scheduled-tasks-api.js';
import { makeUnary } from './tasks-grpc.js';
import { toDeployInfo } from './tasks-proto.js';

/** The handlers of CancelDeploy, AdvanceDeploy, the deploy history, BounceRequest and ListScheduledTasks. */
export function makeDeploysGrpcHandlers(
  deploys: DeploysApi,
  scheduled: ScheduledTasksApi,
  viewAge: () => number | undefined = () => undefined,
): Partial<SchedulerHandlers> {
  const unary = makeUnary(viewAge);
  return {
    CancelDeploy: unary(async (message) =>
      deploys.cancel(
        message.deployId,
        message.requestId,
        message.message ? { message: message.message } : {},
      ),
    ),
    AdvanceDeploy: unary(async (message) => {
      const ids = { requestId: message.requestId, deployId: message.deployId };
      return deploys.update(copySet(message, ['targetActiveInstances'], ids));
    }),
    ListDeployHistory: unary(async (message) => ({
      deploys: (await deploys.history(message.requestId)).map(toDeployInfo),
    })),
    GetDeployHistory: unary(async (message) =>
      toDeployInfo(await deploys.deploy(message.requestId, message.deployId)),
    ),
    BounceRequest: unary(async (message) => {
      const body = message.message ? { message: message.message } : {};
      return deploys.bounce(message.requestId, body);
    }),
    ListScheduledTasks: unary(async (message) => ({
      tasks: await scheduled.list(message.requestId || undefined),
    })),
  };
}
