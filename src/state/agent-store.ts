import type { Coordinator, ZkOp } from '../coordination/index.js';
import { type AgentAdminState, type AgentRecord, agentRecordSchema } from './agent-model.js';
import { StateError } from './state-error.js';
import { statePaths } from './state-paths.js';
import { type Versioned, readChildren, readJson, toData, toStateError } from './zk-json-store.js';

/** Which administrative transitions the API allows, by target state. */
const ALLOWED_FROM: Record<'FROZEN' | 'DECOMMISSIONING' | 'ACTIVE', AgentAdminState[]> = {
  FROZEN: ['ACTIVE', 'FROZEN'],
  DECOMMISSIONING: ['ACTIVE', 'FROZEN', 'DECOMMISSIONING'],
  ACTIVE: ['ACTIVE', 'FROZEN', 'DECOMMISSIONING', 'DECOMMISSIONED'],
};

/**
 * `/agents/<agentId>`: the leader writes registrations (fenced, compare-and-set); any replica
 * changes the administrative state (freeze, decommission, activate) by compare-and-set.
 */
export class AgentStore {
  constructor(private readonly zk: Coordinator) {}

  /** Every known agent. */
  list(): Promise<Versioned<AgentRecord>[]> {
    return readChildren(this.zk, statePaths.agentsDir, agentRecordSchema);
  }

  /** One agent, or NOT_FOUND. */
  async get(agentId: string): Promise<Versioned<AgentRecord>> {
    const found = await readJson(this.zk, statePaths.agent(agentId), agentRecordSchema);
    if (!found) throw new StateError('NOT_FOUND', `agent ${agentId} does not exist`);
    return found;
  }

  /** freeze → FROZEN, decommission → DECOMMISSIONING, activate → ACTIVE. */
  async setAdminState(
    agentId: string,
    to: 'FROZEN' | 'DECOMMISSIONING' | 'ACTIVE',
  ): Promise<AgentRecord> {
    const current = await this.get(agentId);
    if (!ALLOWED_FROM[to].includes(current.value.state)) {
      throw new StateError(
        'CONFLICT',
        `agent ${agentId} is ${current.value.state}, cannot become ${to}`,
      );
    }
    if (current.value.state === to) return current.value;
    const next: AgentRecord = { ...current.value, state: to, stateChangedAt: Date.now() };
    const path = statePaths.agent(agentId);
    try {
      await this.zk.set(path, toData(next, path), current.version);
    } catch (err) {
      throw toStateError(err, `agent ${agentId}`);
    }
    return next;
  }
}

/** Op writing an agent record (leader, fenced): `version` null creates it, else compare-and-set. */
export function writeAgentOp(agent: AgentRecord, version: number | null): ZkOp {
  const path = statePaths.agent(agent.agentId);
  const data = toData(agent, path);
  return version === null ? { op: 'create', path, data } : { op: 'set', path, data, version };
}
