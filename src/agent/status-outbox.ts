import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { HealthcheckResult } from '../gen/thales/v1/HealthcheckResult.js';
import type { StatusUpdate } from '../gen/thales/v1/StatusUpdate.js';
import { fsyncDir, readJsonOrUndefined, writeJsonAtomic } from '../runtime/index.js';

/**
 * A status update as kept in the outbox (camelCase StatusUpdate with its file name); a health
 * update carries `healthcheck` (entries written before it existed have none).
 */
export type OutboxEntry = Required<
  Pick<StatusUpdate, 'updateId' | 'taskId' | 'state' | 'message' | 'atMs'>
> & {
  hasExitCode: boolean;
  exitCode: number;
  seq: number;
  healthcheck?: Required<HealthcheckResult>;
};

const FILE = /^(\d{12})-(.+)\.json$/;

/**
 * `<work-dir>/status-outbox/`: every status update is written here (fsync'd, atomic rename)
 * before it is sent and deleted only when the leader's Ack names it, so nothing is lost across
 * a leader failover or an agent restart. Files are `<seq>-<updateId>.json`; seq keeps order.
 */
export class StatusOutbox {
  private readonly entries = new Map<string, OutboxEntry>();
  private nextSeq = 1;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir)) {
      const m = FILE.exec(name);
      if (!m) continue;
      const entry = readJsonOrUndefined<OutboxEntry>(path.join(dir, name));
      // A torn file cannot exist (atomic rename); an unreadable one is left for an operator.
      if (!entry) continue;
      this.entries.set(entry.updateId, entry);
      this.nextSeq = Math.max(this.nextSeq, Number(m[1]) + 1);
    }
  }

  /** Persists an update durably; returns it with its sequence number. */
  add(update: Omit<OutboxEntry, 'seq'>): OutboxEntry {
    const entry: OutboxEntry = { ...update, seq: this.nextSeq++ };
    writeJsonAtomic(this.fileOf(entry), entry);
    this.entries.set(entry.updateId, entry);
    return entry;
  }

  /** Deletes the acknowledged updates; returns how many were pending here. */
  ack(updateIds: readonly string[]): number {
    let removed = 0;
    for (const id of updateIds) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      rmSync(this.fileOf(entry), { force: true });
      this.entries.delete(id);
      removed++;
    }
    if (removed > 0) fsyncDir(this.dir);
    return removed;
  }

  /** Pending updates, oldest first. */
  pending(): OutboxEntry[] {
    return [...this.entries.values()].sort((a, b) => a.seq - b.seq);
  }

  get size(): number {
    return this.entries.size;
  }

  private fileOf(entry: OutboxEntry): string {
    return path.join(this.dir, `${String(entry.seq).padStart(12, '0')}-${entry.updateId}.json`);
  }
}
