import { z } from 'zod';

/** Administrative states of an agent (set through the API, except DECOMMISSIONED). */
export const AGENT_ADMIN_STATES = [
  'ACTIVE',
  'FROZEN',
  'DECOMMISSIONING',
  'DECOMMISSIONED',
] as const;
/** One of {@link AGENT_ADMIN_STATES}. */
export type AgentAdminState = (typeof AGENT_ADMIN_STATES)[number];

/**
 * The rack of an agent that names none: Singularity's `defaultRackId` (`DEFAULT`), so its
 * users' racks and rack-sensitive placement read the same. The agent's `--rack` flag and the
 * leader (a registration with an empty rack) use this one value.
 */
export const DEFAULT_RACK = 'DEFAULT';

/**
 * Agent ids: stable names kept in each agent's work dir. They become a znode name
 * (`/agents/<agentId>`), so `.` and `..` (which ZooKeeper refuses as path segments) are not ids.
 */
export const agentIdSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^(?!\.\.?$)[A-Za-z0-9_.-]+$/, 'must be letters, digits, _, . or - (not . or ..)');

/** `/agents/<agentId>`: what the agent registered with, and its state. */
export const agentRecordSchema = z.object({
  agentId: z.string(),
  host: z.string(),
  rack: z.string(),
  attributes: z.record(z.string(), z.string()),
  resources: z.object({ cpus: z.number(), memoryMb: z.number(), diskMb: z.number() }),
  portRanges: z.array(z.object({ begin: z.number(), end: z.number() })),
  httpAddress: z.string(),
  state: z.enum(AGENT_ADMIN_STATES),
  registeredAt: z.number(),
  stateChangedAt: z.number(),
  /** Set when the leader declared the agent lost (its tasks LOST); cleared on re-registration. */
  lostAt: z.number().optional(),
  version: z.string().optional(),
});
/** A stored agent. */
export type AgentRecord = z.infer<typeof agentRecordSchema>;

/** Singularity's `SingularitySlave` fields next to Thales' own. */
export function toAgentJson(
  a: AgentRecord,
  connected: boolean | undefined,
): Record<string, unknown> {
  return {
    ...a,
    id: a.agentId,
    rackId: a.rack,
    currentState: { state: a.lostAt ? 'DEAD' : a.state, timestamp: a.stateChangedAt },
    ...(connected === undefined ? {} : { connected }),
  };
}
