/**
 * Cuts one process's link to ZooKeeper with real means: an iptables rule on loopback that
 * drops every packet the process sends to the ensemble's client ports. The process is told
 * apart by its group id (`-m owner --gid-owner`: each replica runs under its own gid), the
 * ensemble by its ports, so the rule touches nothing else on this shared machine: other test
 * runs use other ports. Only OUTPUT can match an owner; dropping the replica's side is enough
 * (its requests and ACKs never arrive, so its connection stalls and its session expires).
 */
import { execFileSync } from 'node:child_process';

/** Why link cuts cannot run here, or undefined when they can. */
export function linkCutUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: iptables needs CAP_NET_ADMIN';
  try {
    execFileSync('iptables', ['-w', '-S', 'OUTPUT'], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') {
      return 'iptables is not installed (Debian: apt-get install iptables; scripts/setup.sh does it)';
    }
    return `iptables does not work here: ${e.stderr?.toString().trim() || e.message}`;
  }
}

/** The iptables rule (without -A/-D) dropping `gid`'s packets to `ports`, tagged with `tag`. */
export function dropRule(gid: number, ports: number[], tag: string): string[] {
  return [
    'OUTPUT',
    ...['-o', 'lo', '-p', 'tcp'],
    ...['-m', 'owner', '--gid-owner', String(gid)],
    ...['-m', 'multiport', '--dports', ports.join(',')],
    ...['-m', 'comment', '--comment', tag],
    ...['-j', 'DROP'],
  ];
}

/** The link cuts of one chaos run; every rule it added is removed by {@link healAll}. */
export class LinkCutter {
  private readonly active = new Map<number, string[]>();

  constructor(
    private readonly zkPorts: number[],
    /** Names this run's rules (`iptables -S | grep` finds leftovers of a killed run). */
    private readonly tag: string,
  ) {}

  /** Whether `gid`'s link is cut now. */
  isCut(gid: number): boolean {
    return this.active.has(gid);
  }

  /** Cuts `gid`'s link to ZooKeeper (no-op if already cut). */
  cut(gid: number): void {
    if (this.active.has(gid)) return;
    const rule = dropRule(gid, this.zkPorts, this.tag);
    execFileSync('iptables', ['-w', '-A', ...rule], { stdio: 'pipe' });
    this.active.set(gid, rule);
  }

  /** Restores `gid`'s link. */
  heal(gid: number): void {
    const rule = this.active.get(gid);
    if (!rule) return;
    execFileSync('iptables', ['-w', '-D', ...rule], { stdio: 'pipe' });
    this.active.delete(gid);
  }

  /** Removes every rule this cutter added (synchronous: also safe in an exit handler). */
  healAll(): void {
    for (const gid of [...this.active.keys()]) {
      try {
        this.heal(gid);
      } catch {
        this.active.delete(gid); // already gone
      }
    }
  }
}
