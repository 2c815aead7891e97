/**
 * Stage events of the load-balancer path, for whoever wants to time it (the lb bench): the
 * replica marks each request's stages (`persisted`, `seen`, `planned`, `applySent`,
 * `pushed:<agent>`, `acked:<agent>`, `committed`) and the lb-agent publishes each delta
 * batch's timeline when it acks. They go to `node:diagnostics_channel` channels — Node's own
 * hook for instrumentation: publishing costs nothing while nobody subscribes, and production
 * code keeps no record of them (it exposes metrics). A recorder subscribes in-process, or is
 * preloaded into a daemon (`node --import`), as `bench/lb/stage-recorder.ts` is.
 */
import diagnostics_channel from 'node:diagnostics_channel';

/** The channel of {@link LbStageEvent}s (replica side). */
export const LB_STAGE_CHANNEL = 'thales:lb:stage';
/** The channel of {@link LbBatchEvent}s (lb-agent side). */
export const LB_BATCH_CHANNEL = 'thales:lb-agent:batch';

/** One stage of one request, `at` in wall-clock ms (see {@link stageNow}). */
export interface LbStageEvent {
  key: string;
  stage: string;
  at: number;
}

/** When each stage of a batch happened (wall-clock ms); absent stages did not happen. */
export interface BatchTimeline {
  written?: number;
  /** New members of unchanged services were handed to nginx (no reload for those). */
  membersPosted?: number;
  tested?: number;
  /** The reload began (aggregates and version are written, then SIGHUP). */
  reloadStart?: number;
  signalled?: number;
  served?: number;
  retired?: number;
}

/** One delta batch of an lb-agent, every time wall-clock ms, published when it is acked. */
export interface LbBatchEvent extends BatchTimeline {
  agentId: string;
  /** Services of the batch with when each arrived (the latest update naming it). */
  received: Record<string, number>;
  start: number;
  acked?: number;
}

const stageChannel = diagnostics_channel.channel(LB_STAGE_CHANNEL);
const batchChannel = diagnostics_channel.channel(LB_BATCH_CHANNEL);

/**
 * Wall-clock milliseconds with sub-millisecond precision (`performance.timeOrigin +
 * performance.now()`), so the processes of one machine can be lined up.
 */
export function stageNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Publishes that request `key` reached `stage` now (nothing happens without a subscriber). */
export function markLbStage(key: string, stage: string): void {
  if (stageChannel.hasSubscribers) {
    stageChannel.publish({ key, stage, at: stageNow() } satisfies LbStageEvent);
  }
}

/** Whether anyone listens for batch timelines (the lb-agent records them only then). */
export function batchTimelinesWanted(): boolean {
  return batchChannel.hasSubscribers;
}

/** Publishes an lb-agent batch's timeline. */
export function publishBatch(event: LbBatchEvent): void {
  if (batchChannel.hasSubscribers) batchChannel.publish(event);
}
