import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { StreamHandle, StreamProtocol } from './reconnecting-stream.js';

/** How a stream ended. */
export interface StreamEnd {
  /** Whether it had been established (the back-off starts over). */
  established: boolean;
  /** The leader it was told to go to, if any. */
  redirect?: string;
}

/**
 * One stream of a {@link ReconnectingStream}, from opening to its end: sends the hello,
 * follows redirects, applies the term fence, establishes (then heartbeats), and gives up if
 * nothing establishes it in time. `ended` resolves once, however it ends.
 */
export class StreamAttempt<Req, Res> implements StreamHandle<Req> {
  /** Whether a message established the stream. */
  established = false;
  /** Resolves when the stream has ended. */
  readonly ended: Promise<StreamEnd>;
  private isOpen = true;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly establishTimer: NodeJS.Timeout;
  private readonly call: grpc.ClientDuplexStream<Req, Res>;
  private readonly client: { close(): void };
  private resolveEnded!: (end: StreamEnd) => void;

  constructor(
    readonly address: string,
    private readonly protocol: StreamProtocol<Req, Res>,
    channelOptions: grpc.ChannelOptions,
    establishTimeoutMs: number,
    private readonly log: Logger,
    private readonly onConnectedChange?: (connected: boolean) => void,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    ({ call: this.call, client: this.client } = protocol.open(address, channelOptions));
    this.establishTimer = setTimeout(
      () => this.end(`no answer within ${establishTimeoutMs} ms`),
      establishTimeoutMs,
    );
    this.call.on('data', (message: Res) => this.onData(message));
    this.call.on('error', (err: grpc.ServiceError) =>
      this.end(err.details || err.message, protocol.redirectFromError?.(err)),
    );
    this.call.on('end', () => this.end('the server ended the stream'));
    this.call.write(protocol.hello());
  }

  get open(): boolean {
    return this.isOpen;
  }

  write(message: Req): boolean {
    if (this.isOpen) this.call.write(message);
    return this.isOpen;
  }

  end(why: string, redirect?: string): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    clearInterval(this.heartbeat);
    clearTimeout(this.establishTimer);
    if (this.established) this.onConnectedChange?.(false);
    this.log.info({ why, next: redirect }, `${this.protocol.name} ended`);
    this.call.cancel();
    this.client.close();
    this.resolveEnded({ established: this.established, ...(redirect ? { redirect } : {}) });
  }

  private onData(message: Res): void {
    if (!this.isOpen) return;
    const { protocol } = this;
    const redirect = protocol.redirectOf?.(message);
    if (redirect !== undefined) {
      return this.end(`not the leader (leader: ${redirect || 'unknown'})`, redirect);
    }
    const fence = protocol.fence;
    if (fence && !fence.admit(fence.termOf(message), message)) {
      return this.end(`refused a message of stale term ${fence.termOf(message)}`);
    }
    if (!this.established && protocol.establishes(message)) this.establish();
    protocol.onMessage(message, this);
  }

  private establish(): void {
    this.established = true;
    clearTimeout(this.establishTimer);
    this.log.info(`${this.protocol.name} established`);
    this.onConnectedChange?.(true);
    this.protocol.onEstablished?.(this);
    const beat = this.protocol.heartbeat;
    if (beat) this.heartbeat = setInterval(() => this.write(beat.message()), beat.everyMs);
  }
}
