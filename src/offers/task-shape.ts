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
  const parts: unknown[] = [
    resourceShapeOf(snap, t),
    snap.taskHostScope[t],
    snap.taskHostLimit[t],
    snap.taskHostReason[t],
    rack,
    rack === NO_LIMIT ? -1 : snap.taskDeploy[t],
    Array.from(snap.taskReqKey.subarray(snap.taskReqStart[t], snap.taskReqStart[t + 1])),
    Array.from(snap.taskReqValue.subarray(snap.taskReqStart[t], snap.taskReqStart[t + 1])),
  ];
  for (let j = snap.taskAllowStart[t]!; j < snap.taskAllowStart[t + 1]!; j++) {
    const from = snap.taskAllowValueStart[j];
    const values = snap.taskAllowValue.subarray(from, snap.taskAllowValueStart[j + 1]);
    parts.push(snap.taskAllowKey[j], Array.from(values));
  }
  return JSON.stringify(parts);
}
