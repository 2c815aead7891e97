/**
 * A task's "shape": a string naming everything its feasibility depends on. Two tasks of the
 * same shape are accepted and rejected by exactly the same offers, which lets the selector
 * remember hopeless shapes and the pipeline explain a whole group of pending tasks at once.
 */
import { NO_LIMIT, SLOTS, type EncodedSnapshot } from './compact-encoding.js';

/** The resource part of the shape: what the cpus/memory/disk/ports stages look at. */
export function resourceShapeOf(snap: EncodedSnapshot, t: number): string {
  const need = snap.taskNeed;
  const b = t * SLOTS;
  return `r${need[b]},${need[b + 1]},${need[b + 2]},${need[b + 3]}`;
}

/** The full shape: resources, host and rack rules with their counting scopes, attributes. */
export function taskShapeOf(snap: EncodedSnapshot, t: number): string {
  const rack = snap.taskRackLimit[t]!;
  let shape =
    `${resourceShapeOf(snap, t)}|h${snap.taskHostScope[t]},${snap.taskHostLimit[t]},` +
    `${snap.taskHostReason[t]}|k${rack},${rack === NO_LIMIT ? -1 : snap.taskDeploy[t]}|q`;
  for (let j = snap.taskReqStart[t]!; j < snap.taskReqStart[t + 1]!; j++) {
    shape += `${snap.taskReqKey[j]}=${snap.taskReqValue[j]},`;
  }
  for (let j = snap.taskAllowStart[t]!; j < snap.taskAllowStart[t + 1]!; j++) {
    shape += `|a${snap.taskAllowKey[j]}:`;
    for (let v = snap.taskAllowValueStart[j]!; v < snap.taskAllowValueStart[j + 1]!; v++) {
      shape += `${snap.taskAllowValue[v]},`;
    }
  }
  return shape;
}
