/**
 * The lb bench's recorder of stage events, preloaded into the bench's replica and lb-agents
 * (`NODE_OPTIONS=--import <this file>`, see lb-bench-cluster.ts): it subscribes to the lb
 * stage channels (src/lb/lb-stage-events.ts) and appends every event as one JSON line to
 * `$LB_BENCH_STAGE_DIR/<pid>.jsonl`. Written synchronously on a descriptor kept open (a few
 * microseconds per event), so the file is complete whenever the bench reads it.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { openSync, writeSync } from 'node:fs';
import path from 'node:path';
import {
  LB_BATCH_CHANNEL,
  LB_STAGE_CHANNEL,
  type LbBatchEvent,
  type LbStageEvent,
} from '../../src/lb/lb-stage-events.js';

/** One line of a recorder file. */
export type RecordedEvent =
  ({ channel: 'stage' } & LbStageEvent) | ({ channel: 'batch' } & LbBatchEvent);

/** The environment variable naming the directory the recorder writes to. */
export const STAGE_DIR_ENV = 'LB_BENCH_STAGE_DIR';

const dir = process.env[STAGE_DIR_ENV];
if (dir) {
  const fd = openSync(path.join(dir, `${process.pid}.jsonl`), 'a');
  const record = (channel: RecordedEvent['channel']) => (message: unknown) => {
    writeSync(fd, `${JSON.stringify({ channel, ...(message as object) })}\n`);
  };
  diagnostics_channel.subscribe(LB_STAGE_CHANNEL, record('stage'));
  diagnostics_channel.subscribe(LB_BATCH_CHANNEL, record('batch'));
}
