import { EventEmitter } from 'node:events';
import zookeeper from 'node-zookeeper-client';
import type { Logger } from 'pino';

/** The connection as the rest of Thales sees it. */
export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** Options for {@link ZkSession}. */
export interface ZkSessionOptions {
  /** `host:port[,host:port…]`, without chroot. */
  connectString: string;
  /** Requested session timeout; ZooKeeper may negotiate it within its bounds. */
  sessionTimeoutMs: number;
  logger: Logger;
}

/** Events of a {@link ZkSession}. */
export interface ZkSessionEvents {
  /** Connected; `newSession` is true for the first connection of a new session. */
  connected: [{ newSession: boolean; sessionId: string }];
  /** The connection dropped; the session may survive if it comes back within the timeout. */
  disconnected: [];
  /** The session is gone (ZooKeeper said so, or we were away longer than its timeout). */
  expired: [];
}

/**
 * Owns the ZooKeeper client and its session. A session that expires is replaced by a new
 * one automatically: the process never exits for it (DESIGN.md, "Connection states").
 */
export class ZkSession extends EventEmitter<ZkSessionEvents> {
  private client: zookeeper.Client | undefined;
  private generation = 0;
  private currentState: ConnectionState = 'connecting';
  private sessionSeen = false;
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ZkSessionOptions) {
    super();
    this.setMaxListeners(100);
  }

  /** The connection state now. */
  get state(): ConnectionState {
    return this.currentState;
  }

  /** The raw client of the current session (replaced after an expiry). */
  get raw(): zookeeper.Client {
    if (!this.client) throw new Error('ZkSession not started');
    return this.client;
  }

  /** The session id in hex, as ZooKeeper prints it; empty before the first connection. */
  get sessionId(): string {
    return this.client && this.sessionSeen ? this.client.getSessionId().toString('hex') : '';
  }

  /** The negotiated session timeout (the requested one until connected). */
  get sessionTimeoutMs(): number {
    const negotiated = this.client && this.sessionSeen ? this.client.getSessionTimeout() : 0;
    return negotiated > 0 ? negotiated : this.options.sessionTimeoutMs;
  }

  /** Starts connecting; the `connected` event says when it is done. */
  start(): void {
    if (this.client) return;
    this.openClient();
  }

  /** Resolves when connected, or rejects after `timeoutMs`. */
  async waitConnected(timeoutMs: number): Promise<void> {
    if (this.currentState === 'connected') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        reject(new Error(`not connected to ZooKeeper after ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnected = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connected', onConnected);
    });
  }

  /** Closes the session: its ephemeral znodes go at once. */
  async close(): Promise<void> {
    this.currentState = 'closed';
    clearTimeout(this.expiryTimer);
    this.generation++;
    const client = this.client;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const done = setTimeout(resolve, 1_000);
      client.once('disconnected', () => {
        clearTimeout(done);
        resolve();
      });
      client.close();
    });
  }

  private openClient(): void {
    const generation = ++this.generation;
    this.sessionSeen = false;
    const client = zookeeper.createClient(this.options.connectString, {
      sessionTimeout: this.options.sessionTimeoutMs,
      spinDelay: 100,
      retries: 0,
    });
    client.on('state', (state) => {
      if (generation === this.generation) this.onState(state);
    });
    this.client = client;
    client.connect();
  }

  private onState(state: zookeeper.State): void {
    const { logger } = this.options;
    if (state === zookeeper.State.SYNC_CONNECTED) {
      clearTimeout(this.expiryTimer);
      const newSession = !this.sessionSeen;
      this.sessionSeen = true;
      this.currentState = 'connected';
      logger.info({ sessionId: this.sessionId, newSession }, 'zookeeper connected');
      this.emit('connected', { newSession, sessionId: this.sessionId });
    } else if (state === zookeeper.State.DISCONNECTED) {
      this.currentState = 'disconnected';
      logger.warn({ sessionId: this.sessionId }, 'zookeeper disconnected');
      this.emit('disconnected');
      // Away longer than the session timeout: ZooKeeper has expired the session by now,
      // whatever the client believes, so act on it instead of waiting to hear it (Curator does too).
      clearTimeout(this.expiryTimer);
      this.expiryTimer = setTimeout(() => this.onExpired('timeout'), this.sessionTimeoutMs);
    } else if (state === zookeeper.State.EXPIRED) {
      this.onExpired('server');
    }
  }

  private onExpired(reason: 'server' | 'timeout'): void {
    if (this.currentState === 'closed') return;
    clearTimeout(this.expiryTimer);
    this.options.logger.warn({ sessionId: this.sessionId, reason }, 'zookeeper session expired');
    const old = this.client;
    this.generation++;
    this.currentState = 'connecting';
    this.emit('expired');
    old?.close();
    this.openClient();
  }
}
