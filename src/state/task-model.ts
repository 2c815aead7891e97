import { z } from 'zod';
import { healthcheckResultSchema, taskHealthSchema } from './task-health.js';
import { taskCleanupSchema } from './task-cleanup.js';

/** Singularity's (Mesos') task states. */
export const TASK_STATES = [
  'TASK_LAUNCHED',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_LOST',
] as const;
/** One of {@link TASK_STATES}. */
export type TaskState = (typeof TASK_STATES)[number];

const TERMINAL: ReadonlySet<string> = new Set([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_LOST',
]);

/** Whether a task in this state has ended. */
export function isTerminal(state: string): boolean {
  return TERMINAL.has(state);
}

/** Whether `s` is a known task state. */
export function isTaskState(s: string): s is TaskState {
  return (TASK_STATES as readonly string[]).includes(s);
}

/**
 * Task ids as clients send them back (`<requestId>-<deployId>-<launchMs>-<instanceNo>-<agentId>`):
 * the characters of those parts, never `.` or `..` (a task id is a znode name).
 */
export const taskIdSchema = z
  .string()
  .min(1)
  .max(400)
  .regex(/^(?!\.\.?$)[A-Za-z0-9_.-]+$/, 'must be letters, digits, _, . or - (not . or ..)');

/** One entry of a task's state history. */
export const taskUpdateSchema = z.object({
  state: z.enum(TASK_STATES),
  at: z.number(),
  message: z.string().optional(),
  exitCode: z.number().optional(),
});
/** One entry of a task's state history. */
export type TaskUpdate = z.infer<typeof taskUpdateSchema>;

/**
 * A task as stored in `/tasks/active/<requestId>/<taskId>` and, once it ended, in
 * `/tasks/history/<requestId>/<taskId>`. The command and env are not copied: they are the
 * deploy's (keeps each task znode around half a kilobyte).
 */
export const taskSchema = z.object({
  taskId: z.string(),
  requestId: z.string(),
  deployId: z.string(),
  instanceNo: z.number(),
  agentId: z.string(),
  host: z.string(),
  rack: z.string(),
  startedAt: z.number(),
  ports: z.array(z.number()),
  resources: z.object({
    cpus: z.number(),
    memoryMb: z.number(),
    diskMb: z.number(),
    numPorts: z.number(),
  }),
  /** Term of the leader that launched it. */
  term: z.number(),
  state: z.enum(TASK_STATES),
  updates: z.array(taskUpdateSchema),
  /** Set once a kill was decided (scale-down, deploy replaced, kill API, unknown). */
  killReason: z.string().optional(),
  /** Why the leader killed it, set when the kill was sent (absent: not killed by the leader). */
  taskCleanup: taskCleanupSchema.optional(),
  /** The last health-check results, newest first (absent on tasks stored before them). */
  healthcheckResults: z.array(healthcheckResultSchema).optional(),
  /** The health the agent last reported (absent until it reports one). */
  health: taskHealthSchema.optional(),
});
/** A stored task. */
export type Task = z.infer<typeof taskSchema>;

/** Updates kept per task (the first and the latest ones). */
export const MAX_TASK_UPDATES = 20;

/** Singularity's task id: `<requestId>-<deployId>-<launchMs>-<instanceNo>-<agentId>`. */
export function makeTaskId(
  requestId: string,
  deployId: string,
  launchMs: number,
  instanceNo: number,
  agentId: string,
): string {
  return `${requestId}-${deployId}-${launchMs}-${instanceNo}-${agentId}`;
}

/** A task with one more state update (history bounded to {@link MAX_TASK_UPDATES}). */
export function withUpdate(task: Task, update: TaskUpdate): Task {
  const updates = [...task.updates, update];
  if (updates.length > MAX_TASK_UPDATES) updates.splice(1, updates.length - MAX_TASK_UPDATES);
  return { ...task, state: update.state, updates };
}

/**
 * Singularity's `SingularityTaskId` object, so its clients find the fields they read, next to
 * Thales' own task fields.
 */
export function toTaskJson(task: Task): Record<string, unknown> {
  return {
    ...task,
    taskId: {
      id: task.taskId,
      requestId: task.requestId,
      deployId: task.deployId,
      startedAt: task.startedAt,
      instanceNo: task.instanceNo,
      host: task.host,
      sanitizedHost: task.host.replace(/[^A-Za-z0-9_]/g, '_'),
      rackId: task.rack,
      agentId: task.agentId,
    },
    id: task.taskId,
    lastTaskState: task.state,
    healthcheckResults: task.healthcheckResults ?? [],
  };
}
