import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../runtime/index.js';
import { MEMBERS_FILE } from './nginx-lua.js';
import {
  AGGREGATE_LOCATIONS,
  AGGREGATE_UPSTREAMS,
  renderAggregates,
  renderMainConf,
  renderMembers,
  renderTestConf,
  renderVersionConf,
  type ConfOptions,
  type RenderedService,
} from './nginx-renderer.js';

/**
 * The files of an lb-agent's nginx under its prefix:
 * `conf/nginx.conf`, `conf/version.conf`, `conf/upstreams/<service>.conf` (http context) and
 * `conf/locations/<service>.conf` (server context), and for a dynamic upstream
 * `conf/members/<service>.txt` (its members, nginx-lua.ts). Every write is atomic (temp file,
 * rename).
 */
export class ConfigWriter {
  /** The members file's text as this writer last wrote it. */
  private membersWritten: string | undefined;
  /** What the per-service files hold (as written by this writer, or found at start). */
  private readonly services = new Map<string, RenderedService>();

  constructor(
    readonly prefix: string,
    private readonly port: number,
    private readonly dynamicUpstreams = true,
  ) {}

  /**
   * Creates the directories and writes the main config (and aggregates of what is on disk);
   * returns whether the main config differs from the one found on disk (another release of
   * the agent rendered it: a running nginx must reload to take the new one).
   */
  init(): boolean {
    for (const dir of ['conf/upstreams', 'conf/locations', 'conf/members', 'logs', 'tmp', 'html']) {
      mkdirSync(path.join(this.prefix, dir), { recursive: true });
    }
    this.services.clear();
    for (const id of this.listServices()) {
      const files = this.read(id);
      if (files) this.services.set(id, files);
    }
    this.writeAggregates();
    const main = renderMainConf(this.confOptions());
    const mainFile = path.join(this.prefix, 'conf', 'nginx.conf');
    const changed = !existsSync(mainFile) || readFileSync(mainFile, 'utf8') !== main;
    this.writeAtomic(mainFile, main);
    const version = path.join(this.prefix, 'conf', 'version.conf');
    if (!existsSync(version)) this.writeVersion(0);
    return changed;
  }

  /**
   * Writes the files the main config includes from the per-service files written so far;
   * called before every (re)load, so nginx reads what the service files say. `force` rewrites
   * the members file even if this writer last wrote the same text (drift repair: it may have
   * changed behind the agent's back).
   */
  writeAggregates(force = false): void {
    const a = renderAggregates(this.services);
    this.writeAtomic(path.join(this.prefix, AGGREGATE_UPSTREAMS), a.upstreams);
    this.writeAtomic(path.join(this.prefix, AGGREGATE_LOCATIONS), a.locations);
    this.writeMembers(a.members, force);
  }

  /**
   * Writes only the members file: before members are POSTed to nginx, so that a reload or
   * restart never loads members older than the ones being served. Skipped when it would not
   * change (most batches with static upstreams, or with no member change).
   */
  writeMembersFile(): void {
    this.writeMembers(renderMembers(this.services, [...this.services.keys()].sort()), false);
  }

  private writeMembers(text: string, force: boolean): void {
    if (!force && text === this.membersWritten) return;
    this.writeAtomic(path.join(this.prefix, MEMBERS_FILE), text);
    this.membersWritten = text;
  }

  /** The members lines of `serviceIds` (those with a dynamic upstream), for a POST. */
  membersOf(serviceIds: readonly string[]): string {
    return renderMembers(this.services, serviceIds);
  }

  /** Whether the aggregate files on disk differ from the per-service files (drift). */
  aggregatesDrifted(): boolean {
    const a = renderAggregates(this.services);
    const disk = (f: string): string | undefined => {
      try {
        return readFileSync(path.join(this.prefix, f), 'utf8');
      } catch {
        return undefined;
      }
    };
    return (
      disk(AGGREGATE_UPSTREAMS) !== a.upstreams ||
      disk(AGGREGATE_LOCATIONS) !== a.locations ||
      disk(MEMBERS_FILE) !== a.members
    );
  }

  /** Writes the version location nginx will serve after the next reload. */
  writeVersion(generation: number): void {
    this.writeAtomic(path.join(this.prefix, 'conf', 'version.conf'), renderVersionConf(generation));
  }

  /** Writes the config that validates only `serviceIds`; returns its path. */
  writeTestConf(serviceIds: readonly string[]): string {
    const file = path.join(this.prefix, 'conf', 'nginx-test.conf');
    this.writeAtomic(file, renderTestConf(this.confOptions(), serviceIds));
    return file;
  }

  /** The files of a service as they are on disk (null when it has none). */
  read(serviceId: string): RenderedService | null {
    let files: RenderedService;
    try {
      files = {
        upstreamConf: readFileSync(this.upstreamFile(serviceId), 'utf8'),
        locationConf: readFileSync(this.locationFile(serviceId), 'utf8'),
      };
    } catch {
      return null;
    }
    if (existsSync(this.membersFile(serviceId)))
      files.members = readFileSync(this.membersFile(serviceId), 'utf8');
    return files;
  }

  /**
   * The files of a service as this writer last wrote them (or found them at start), without
   * reading the disk; {@link ConfigWriter.read} is what the drift check uses.
   */
  written(serviceId: string): RenderedService | null {
    return this.services.get(serviceId) ?? null;
  }

  /** Writes a service's files, or removes them (`null`). */
  write(serviceId: string, files: RenderedService | null): void {
    if (files === null) {
      rmSync(this.upstreamFile(serviceId), { force: true });
      rmSync(this.locationFile(serviceId), { force: true });
      rmSync(this.membersFile(serviceId), { force: true });
      this.services.delete(serviceId);
      return;
    }
    this.writeAtomic(this.upstreamFile(serviceId), files.upstreamConf);
    this.writeAtomic(this.locationFile(serviceId), files.locationConf);
    if (files.members !== undefined) this.writeAtomic(this.membersFile(serviceId), files.members);
    else rmSync(this.membersFile(serviceId), { force: true });
    this.services.set(serviceId, files);
  }

  /** Ids of every service with files on disk. */
  listServices(): string[] {
    const dir = path.join(this.prefix, 'conf', 'locations');
    return readdirSync(dir)
      .filter((f) => f.endsWith('.conf'))
      .map((f) => f.slice(0, -'.conf'.length));
  }

  private upstreamFile(id: string): string {
    return path.join(this.prefix, 'conf', 'upstreams', `${id}.conf`);
  }

  private confOptions(): ConfOptions {
    return { prefix: this.prefix, port: this.port, dynamicUpstreams: this.dynamicUpstreams };
  }

  private membersFile(id: string): string {
    return path.join(this.prefix, 'conf', 'members', `${id}.txt`);
  }

  private locationFile(id: string): string {
    return path.join(this.prefix, 'conf', 'locations', `${id}.conf`);
  }

  /** nginx files are rendered again from the leader's state at start: no fsync needed. */
  private writeAtomic(file: string, text: string): void {
    writeFileAtomic(file, text, { durable: false });
  }
}
