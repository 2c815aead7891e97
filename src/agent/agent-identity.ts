import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readJsonOrUndefined, writeJsonAtomic } from '../runtime/index.js';

/** `<work-dir>/agent.json`: what must survive an agent restart. */
export interface AgentIdentity {
  agentId: string;
  highestTerm: number;
}

/** A generated agent id: `<hostname>-<random6>`. */
export function generateAgentId(hostname = os.hostname()): string {
  const host = hostname.replace(/[^A-Za-z0-9_.-]/g, '-') || 'agent';
  return `${host}-${randomBytes(3).toString('hex')}`;
}

/**
 * The agent's id and fencing term, kept in agent.json: created on first start (with the given
 * id or a generated one), read on every later start. A given id that differs from the stored
 * one is an operator error (the leader would see a different agent) and is refused.
 */
export class AgentIdentityStore {
  private current: AgentIdentity;

  constructor(
    private readonly file: string,
    requestedId?: string,
  ) {
    const stored = readJsonOrUndefined<AgentIdentity>(file);
    if (stored && requestedId && stored.agentId !== requestedId) {
      throw new Error(
        `--agent-id ${requestedId} differs from ${stored.agentId} stored in ${file}; ` +
          'remove the work dir to change the id',
      );
    }
    this.current = stored ?? { agentId: requestedId ?? generateAgentId(), highestTerm: 0 };
    if (!stored) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeJsonAtomic(file, this.current);
    }
  }

  get agentId(): string {
    return this.current.agentId;
  }

  get highestTerm(): number {
    return this.current.highestTerm;
  }

  /** Persists a higher term (fsync'd) before the caller acts on a message carrying it. */
  raiseTerm(term: number): void {
    if (term <= this.current.highestTerm) return;
    const next = { ...this.current, highestTerm: term };
    writeJsonAtomic(this.file, next);
    this.current = next;
  }
}
