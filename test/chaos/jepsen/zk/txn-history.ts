/**
 * The committed history of an ensemble, from its members' transaction logs. A transaction is
 * committed once a quorum has logged it, and ZAB keeps every such transaction, so the union of
 * the members' logs, keeping the transactions at least a quorum of members logged, is exactly
 * the committed history — also across members killed and restarted (a restarted member keeps
 * its log; one that missed transactions while down may hold them only in a snapshot, but the
 * quorum that committed them logged them). A transaction only one member of three logged was
 * a proposal its leader died with: never committed, left out.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { type Txn, parseTxnLog } from './txn-log.js';

/** Every transaction in one member's logs (its `version-2/log.*` files). */
export function readMemberLog(dataDir: string): Txn[] {
  const dir = path.join(dataDir, 'version-2');
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.startsWith('log.'));
  } catch {
    return [];
  }
  return files.flatMap((f) => parseTxnLog(readFileSync(path.join(dir, f))));
}

/** The committed history and what was left out. */
export interface CommittedHistory {
  /** In zxid order. */
  committed: Txn[];
  /** Logged by fewer than a quorum of members. */
  uncommitted: Txn[];
  /** Members whose logs were read, and how many transactions each held. */
  members: { name: string; txns: number }[];
}

/** Merges the members' logs (`logs[i]` of member `names[i]`). */
export function mergeMemberLogs(
  logs: readonly Txn[][],
  names: readonly string[],
): CommittedHistory {
  const quorum = Math.floor(logs.length / 2) + 1;
  const byZxid = new Map<number, { txn: Txn; members: Set<number> }>();
  logs.forEach((txns, member) => {
    for (const txn of txns) {
      const seen = byZxid.get(txn.zxid);
      if (seen) seen.members.add(member);
      else byZxid.set(txn.zxid, { txn, members: new Set([member]) });
    }
  });
  const committed: Txn[] = [];
  const uncommitted: Txn[] = [];
  for (const { txn, members } of byZxid.values()) {
    (members.size >= quorum ? committed : uncommitted).push(txn);
  }
  committed.sort((a, b) => a.zxid - b.zxid);
  uncommitted.sort((a, b) => a.zxid - b.zxid);
  return {
    committed,
    uncommitted,
    members: names.map((name, i) => ({ name, txns: logs[i]?.length ?? 0 })),
  };
}
