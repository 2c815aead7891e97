/**
 * The one reconnecting client of a daemon's bidirectional stream to the scheduler leader
 * (the agent's `AgentService.Connect`, the lb-agent's `LoadBalancer.WatchGroup`). The
 * protocol says what its messages mean; this class does the rest: finding the leader, one
 * connection per stream, keepalive, redirects, term fencing, heartbeats, and reconnecting for
 * ever on the runtime's `leaderStream` back-off.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { LeaderDiscovery } from './leader-discovery.js';
import { detach } from './detach.js';
import { Backoff } from './retry-policy.js';
import { StreamAttempt } from './stream-attempt.js';

/** gRPC keepalive of a channel to the leader. */
export interface KeepaliveSettings {
  /** How often the client pings the server (`grpc.keepalive_time_ms`). */
  timeMs: number;
  /** A ping unanswered this long drops the connection (`grpc.keepalive_timeout_ms`). */
  timeoutMs: number;
}

/**
 * The default keepalive: a leader that stops answering (SIGSTOP, a dead host) is noticed
 * within 20 s even without ZooKeeper. With a `/leader` watch the switch happens at the
 * election instead (see `watchLeader`); keepalive is the fallback for `--scheduler` lists.
 */
export const LEADER_KEEPALIVE: KeepaliveSettings = { timeMs: 10_000, timeoutMs: 10_000 };

/** A stream that was opened but not established (Registered, first update) in this time is
 * given up on: a paused replica accepts TCP connections and never answers. */
export const DEFAULT_ESTABLISH_TIMEOUT_MS = 15_000;

/** Redirects followed at once, in a row, before the back-off applies again. */
const MAX_IMMEDIATE_REDIRECTS = 3;

/** What protocol code may do with the stream a message came on. */
export interface StreamHandle<Req> {
  readonly address: string;
  /** Whether this stream is still open (an answer for an older stream must not be written). */
  readonly open: boolean;
  /** Writes `message` if the stream is still open; returns whether it did. */
  write(message: Req): boolean;
  /** Ends the stream; the client reconnects, to `redirect` first when given. */
  end(reason: string, redirect?: string): void;
}

/** Term fencing: every message but a redirect is checked before it is handled. */
export interface TermFence<Res> {
  termOf(message: Res): number;
  /** Whether a message of `term` may be acted on (persisting a higher term first); a refusal
   * ends the stream: it comes from a deposed leader. */
  admit(term: number, message: Res): boolean;
}

/** The protocol half of a reconnecting stream. */
export interface StreamProtocol<Req, Res> {
  /** What logs call the stream ("leader stream", "lb stream"). */
  name: string;
  /** Opens the call on a client of its own for `address`, with `channelOptions`. */
  open(
    address: string,
    channelOptions: grpc.ChannelOptions,
  ): { call: grpc.ClientDuplexStream<Req, Res>; client: { close(): void } };
  /** The first message of every stream (Register, subscribe), built afresh each time. */
  hello(): Req;
  /** The leader a redirect names (`''`: unknown), or undefined if `message` is no redirect.
   * A redirect is followed whatever its term: it is not a command. */
  redirectOf?(message: Res): string | undefined;
  /** The leader a failed call names (e.g. in trailing metadata). */
  redirectFromError?(err: grpc.ServiceError): string | undefined;
  fence?: TermFence<Res>;
  /** Whether `message` establishes the stream (counts as connected, back-off starts over). */
  establishes(message: Res): boolean;
  /** Runs when the stream is established, before its first message is handled. */
  onEstablished?(stream: StreamHandle<Req>): void;
  /** Every admitted message. */
  onMessage(message: Res, stream: StreamHandle<Req>): void;
  /** A message sent every `everyMs` while established. */
  heartbeat?: { everyMs: number; message(): Req };
}

/** Options of {@link ReconnectingStream}. */
export interface ReconnectingStreamOptions<Req, Res> {
  protocol: StreamProtocol<Req, Res>;
  discovery: LeaderDiscovery;
  logger: Logger;
  keepalive?: KeepaliveSettings;
  establishTimeoutMs?: number;
  /** More channel options (e.g. a larger receive limit). */
  channelOptions?: grpc.ChannelOptions;
  onConnectedChange?(connected: boolean): void;
  /** A stream ended (or none could be opened) and another attempt follows. */
  onReconnect?(): void;
}

/**
 * Connects to the leader and keeps doing so until stopped: to the address a redirect or the
 * latch names, else to the discovery's candidates in turn. A stream to a replica that the
 * latch no longer names as leader is dropped at once (a paused leader is deposed when its
 * ZooKeeper session expires; keepalive alone would take up to 20 s more).
 */
export class ReconnectingStream<Req, Res> {
  private stopped = false;
  private active: StreamAttempt<Req, Res> | undefined;
  private hint: string | undefined;
  /** The leader the latch named last (undefined: no news, or nobody holds it). */
  private elected: string | undefined;
  private redirectsInARow = 0;
  private rotation = 0;
  private readonly backoff = new Backoff('leaderStream');
  private readonly electedWait = new Backoff('electedLeader');
  private wake: (() => void) | undefined;
  private unwatch: (() => void) | undefined;

  constructor(private readonly options: ReconnectingStreamOptions<Req, Res>) {}

  /** Whether the current stream is established. */
  get connected(): boolean {
    return this.active?.established ?? false;
  }

  /** The address of the current stream, established or not. */
  get address(): string | undefined {
    return this.active?.address;
  }

  /** Starts connecting (and reconnecting until {@link ReconnectingStream.stop}). */
  start(): void {
    this.unwatch = this.options.discovery.watchLeader?.((a) => this.onElected(a));
    this.runLoop();
  }

  /**
   * Runs the connect loop; one that fails unforeseen (a callback throwing) starts again after
   * a back-off: a daemon without its leader stream is useless, but a dead one is worse.
   */
  private runLoop(): void {
    detach(this.loop(), this.options.logger, `${this.options.protocol.name} stream loop`, () => {
      if (!this.stopped) setTimeout(() => this.runLoop(), this.backoff.next());
    });
  }

  /** Ends the stream for good. */
  stop(): void {
    this.stopped = true;
    this.unwatch?.();
    this.active?.end('stopped');
    this.wake?.();
  }

  /** Writes on the current stream if it is established; returns whether it did. */
  write(message: Req): boolean {
    return this.active?.established ? this.active.write(message) : false;
  }

  /** The latch names a new leader: leave any other replica now, go there next. */
  private onElected(address: string | null): void {
    this.elected = address ?? undefined;
    // A new election: the failures before it say nothing about the new leader, so the
    // back-off starts over (the retries of a stream to a dead leader may have reached 5 s).
    this.redirectsInARow = 0;
    this.backoff.reset();
    this.electedWait.reset();
    const current = this.active;
    if (current && current.address === address) return;
    this.hint = address ?? undefined;
    if (current) current.end(`the leader latch names ${address ?? 'no leader'}`);
    else this.wake?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const picked = await this.pickAddress().catch((err: unknown) => {
        this.options.logger.warn({ err }, `${this.options.protocol.name}: no leader address`);
        return undefined;
      });
      // News from the latch while the candidates were read wins over them.
      const address = this.takeHint() ?? picked;
      const established = address ? await this.runOnce(address) : false;
      if (this.stopped) return;
      this.options.onReconnect?.();
      if (established) {
        this.backoff.reset();
        this.electedWait.reset();
        this.redirectsInARow = 0;
      }
      await this.sleep(this.nextDelay(address));
    }
  }

  /**
   * How long to wait before the next attempt, after a stream to `address` ended (and where
   * to go, when the latch knows better than the candidate list).
   */
  private nextDelay(address: string | undefined): number {
    const soon = (): number =>
      this.electedWait.exhausted ? this.backoff.next() : this.electedWait.next();
    // The replica named itself: elected, not serving yet. Ask it again soon, not at once.
    if (this.hint !== undefined && this.hint === address) return soon();
    if (this.hint !== undefined) {
      if (this.redirectsInARow >= MAX_IMMEDIATE_REDIRECTS) return this.backoff.next();
      this.redirectsInARow++;
      return 0;
    }
    // Failed elsewhere (a dead leader a follower still named, say) while the latch names a
    // leader: go there, soon, rather than round the candidates on a growing back-off.
    if (this.elected !== undefined && address !== this.elected && !this.electedWait.exhausted) {
      this.hint = this.elected;
      return this.electedWait.next();
    }
    return this.backoff.next();
  }

  private takeHint(): string | undefined {
    const hint = this.hint;
    this.hint = undefined;
    return hint;
  }

  private async pickAddress(): Promise<string | undefined> {
    const hint = this.takeHint();
    if (hint) return hint;
    const all = await this.options.discovery.addresses();
    return all.length === 0 ? undefined : all[this.rotation++ % all.length];
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private channelOptions(): grpc.ChannelOptions {
    const keepalive = this.options.keepalive ?? LEADER_KEEPALIVE;
    return {
      'grpc.keepalive_time_ms': keepalive.timeMs,
      'grpc.keepalive_timeout_ms': keepalive.timeoutMs,
      // A connection of its own, closed with the stream: a new stream never rides on the
      // pooled connection to a replica that stopped answering.
      'grpc.use_local_subchannel_pool': 1,
      ...this.options.channelOptions,
    };
  }

  /** One stream; resolves (with whether it got established) when it ends. */
  private async runOnce(address: string): Promise<boolean> {
    const attempt = new StreamAttempt(
      address,
      this.options.protocol,
      this.channelOptions(),
      this.options.establishTimeoutMs ?? DEFAULT_ESTABLISH_TIMEOUT_MS,
      this.options.logger.child({ scheduler: address }),
      this.options.onConnectedChange,
    );
    this.active = attempt;
    const { established, redirect } = await attempt.ended;
    if (this.active === attempt) this.active = undefined;
    if (redirect) this.hint = redirect;
    return established;
  }
}
