import type { Coordinator } from './coordinator.js';

/**
 * Makes this session's next reads linearizable: they reflect every write that any client had
 * acknowledged before the barrier began.
 *
 * ZooKeeper serves reads from the server a session is connected to, which may not have applied
 * a write that another server already acknowledged. The barrier is a `multi` holding one
 * `check` (of the chroot, any version): a multi is a transaction, so it is proposed by the
 * leader and committed by a quorum in the one total order of writes (it takes a zxid of its
 * own, though it changes nothing), and the session's server answers it only after applying
 * everything ordered before it. Requests of a session are handled in order, so reads sent after
 * the answer see at least that state.
 *
 * Why not `sync`: node-zookeeper-client has no `sync`, and the opcode (9) cannot be sent
 * through its public API (its reply dispatcher drops the connection on an opcode it does not
 * know). Even ZooKeeper's own `sync` is not quorum-checked — a leader that has lost its quorum
 * but does not know yet may still answer it (ZOOKEEPER-1675) — while a committed transaction
 * cannot be.
 */
export async function linearizableBarrier(zk: Coordinator): Promise<void> {
  await zk.multi([{ op: 'check', path: '/', version: -1 }]);
}
