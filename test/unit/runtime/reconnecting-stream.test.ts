import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../src/dev/wait-for.js';
import type { ProtoGrpcType } from '../../../src/gen/agent.js';
import type {
  AgentMessage,
  AgentMessage__Output,
} from '../../../src/gen/thales/v1/AgentMessage.js';
import type {
  LeaderMessage,
  LeaderMessage__Output,
} from '../../../src/gen/thales/v1/LeaderMessage.js';
import {
  type LeaderDiscovery,
  ReconnectingStream,
  type StreamProtocol,
  loadProto,
} from '../../../src/runtime/index.js';

type ServerCall = grpc.ServerDuplexStream<AgentMessage__Output, LeaderMessage>;
const proto = loadProto<ProtoGrpcType>('agent.proto');

/**
 * TEST DOUBLE of a replica's AgentService (a real grpc-js server on loopback): answers each
 * Register as `behaviour` says, and records what it received.
 */
class FakeReplica {
  readonly received: AgentMessage__Output[] = [];
  readonly calls: ServerCall[] = [];
  private readonly server = new grpc.Server();
  private port = 0;

  constructor(private behaviour: (call: ServerCall) => void) {
    this.server.addService(proto.thales.v1.AgentService.service, {
      Connect: (call: ServerCall) => {
        this.calls.push(call);
        call.on('data', (m: AgentMessage__Output) => {
          this.received.push(m);
          if (m.msg === 'register') this.behaviour(call);
        });
        call.on('error', () => undefined);
        call.on('end', () => call.end());
      },
    });
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Streams whose client is still connected. */
  get openCalls(): number {
    return this.calls.filter((c) => !c.cancelled && !c.destroyed).length;
  }

  set answer(behaviour: (call: ServerCall) => void) {
    this.behaviour = behaviour;
  }

  async start(): Promise<this> {
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    return this;
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

const registered =
  (term: number) =>
  (call: ServerCall): void =>
    void call.write({ term, registered: { agentId: 'a', state: 'ACTIVE' } });
const notLeader =
  (leader: string) =>
  (call: ServerCall): void => {
    call.write({ term: 0, notLeader: { leaderGrpcAddress: leader } });
    call.end();
  };

/** A latch the test moves by hand (what ZooKeeper's `/leader` watch reports). */
class ManualLatch implements LeaderDiscovery {
  private listener: ((a: string | null) => void) | undefined;
  constructor(public leader: string | null) {}
  addresses(): Promise<string[]> {
    return Promise.resolve(this.leader ? [this.leader] : []);
  }
  watchLeader(listener: (a: string | null) => void): () => void {
    this.listener = listener;
    listener(this.leader);
    return () => (this.listener = undefined);
  }
  elect(leader: string | null): void {
    this.leader = leader;
    this.listener?.(leader);
  }
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function replica(behaviour: (call: ServerCall) => void): Promise<FakeReplica> {
  const r = await new FakeReplica(behaviour).start();
  cleanups.push(() => r.stop());
  return r;
}

/** A client speaking agent.proto with a term fence on `highest`. */
function client(discovery: LeaderDiscovery, establishTimeoutMs = 15_000) {
  const seen = { highest: 0, messages: [] as LeaderMessage__Output[], established: 0 };
  const protocol: StreamProtocol<AgentMessage, LeaderMessage__Output> = {
    name: 'test stream',
    open: (address, options) => {
      const c = new proto.thales.v1.AgentService(
        address,
        grpc.credentials.createInsecure(),
        options,
      );
      return { client: c, call: c.Connect() };
    },
    hello: () => ({ register: { agentId: 'a' } }),
    redirectOf: (m) => (m.msg === 'notLeader' ? (m.notLeader?.leaderGrpcAddress ?? '') : undefined),
    fence: {
      termOf: (m) => m.term,
      admit: (term) => {
        if (term < seen.highest) return false;
        seen.highest = term;
        return true;
      },
    },
    establishes: (m) => m.msg === 'registered',
    onEstablished: () => void seen.established++,
    onMessage: (m) => void seen.messages.push(m),
    heartbeat: { everyMs: 50, message: () => ({ heartbeat: { atMs: Date.now() } }) },
  };
  const stream = new ReconnectingStream({
    protocol,
    discovery,
    logger: pino({ level: 'silent' }),
    establishTimeoutMs,
  });
  cleanups.push(() => stream.stop());
  return { stream, seen };
}

describe('ReconnectingStream (test-double replicas on real gRPC)', () => {
  it('follows NotLeader to the leader it names, then heartbeats there', async () => {
    const leader = await replica(registered(3));
    const follower = await replica(notLeader(leader.address));
    const { stream, seen } = client({ addresses: () => Promise.resolve([follower.address]) });
    stream.start();
    await waitFor('established with the leader', () => stream.connected);
    expect(stream.address).toBe(leader.address);
    expect(seen.highest).toBe(3);
    await waitFor('heartbeats', () => leader.received.filter((m) => m.heartbeat).length >= 2);
    expect(follower.received.some((m) => m.heartbeat)).toBe(false);
  });

  it('ends a stream whose leader sends an older term, and registers again', async () => {
    let term = 5;
    const leader = await replica((call) => registered(term)(call));
    const { stream, seen } = client({ addresses: () => Promise.resolve([leader.address]) });
    stream.start();
    await waitFor('registered at term 5', () => seen.highest === 5 && stream.connected);
    term = 4;
    leader.calls.at(-1)?.write({ term: 4, ack: { updateIds: ['x'] } });
    await waitFor('a second Register', () => leader.received.filter((m) => m.register).length > 1);
    expect(seen.messages.some((m) => m.msg === 'ack')).toBe(false);
    term = 6;
    await waitFor('registered at term 6', () => seen.highest === 6 && stream.connected);
  });

  it('drops a stream at once when the latch names another leader', async () => {
    const first = await replica(registered(1));
    const second = await replica(registered(2));
    const latch = new ManualLatch(first.address);
    const { stream } = client(latch);
    stream.start();
    await waitFor('established with the first', () => stream.connected);
    expect(stream.address).toBe(first.address);
    // The first replica keeps its stream open and answering: only the latch moved.
    latch.elect(second.address);
    await waitFor('established with the second', () =>
      stream.connected && stream.address === second.address ? true : undefined,
    );
    await waitFor('the first stream closed', () => first.openCalls === 0, { timeoutMs: 5_000 });
  });

  it('asks an elected replica that names itself again until it serves', async () => {
    let refusals = 0;
    const elected: FakeReplica = await replica((call) => {
      if (refusals++ < 3) return notLeader(elected.address)(call);
      registered(7)(call);
    });
    const { stream, seen } = client(new ManualLatch(elected.address));
    stream.start();
    await waitFor('established once it serves', () => stream.connected);
    expect(stream.address).toBe(elected.address);
    expect(seen.highest).toBe(7);
    expect(elected.received.filter((m) => m.register)).toHaveLength(4);
  });

  it('gives up on a replica that accepts the stream and never answers', async () => {
    const silent = await replica(() => undefined);
    const leader = await replica(registered(1));
    const { stream } = client(
      { addresses: () => Promise.resolve([silent.address, leader.address]) },
      300,
    );
    stream.start();
    await waitFor('established with the answering replica', () => stream.connected);
    expect(stream.address).toBe(leader.address);
    expect(silent.received.some((m) => m.register)).toBe(true);
  });
});
