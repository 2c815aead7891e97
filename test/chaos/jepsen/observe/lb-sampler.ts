/**
 * Samples the upstreams the lb-agent has given nginx for `web`: its members file
 * (`<work-dir>/nginx/conf/members/web.txt`), which the lb-agent writes just before it POSTs the
 * same members to nginx's balancer, and which nginx loads at every start and reload. An
 * upstream in that file is one nginx serves, or is about to serve.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The members of one service at one moment (undefined: no members file). */
export interface LbSample {
  at: number;
  members: string[] | undefined;
}

/** Parses a service's members file: its `host:port`s, separated by white space. */
export function parseMembers(text: string): string[] {
  return text.split(/\s+/).filter((m) => m.length > 0);
}

/** The background sampler of one lb-agent's members of one service. */
export class LbSampler {
  readonly samples: LbSample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly lbWorkDir: string,
    private readonly serviceId: string,
    private readonly intervalMs = 500,
  ) {}

  /** The members file. */
  get file(): string {
    return path.join(this.lbWorkDir, 'nginx', 'conf', 'members', `${this.serviceId}.txt`);
  }

  /** Starts sampling. */
  start(): void {
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  /** Stops sampling, after one last sample. */
  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  /** One sample. */
  sample(): LbSample {
    const at = Date.now();
    let members: string[] | undefined;
    try {
      members = parseMembers(readFileSync(this.file, 'utf8'));
    } catch {
      members = undefined;
    }
    const s = { at, members };
    this.samples.push(s);
    return s;
  }
}
