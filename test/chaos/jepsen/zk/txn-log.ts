/**
 * A reader of ZooKeeper 3.8's transaction log files (`<dataDir>/version-2/log.<zxid>`), the
 * server's own record of every transaction it logged, in zxid order. The chaos checker reads
 * them instead of sampling ZooKeeper: they hold every write that ever landed, including the
 * multis ZooKeeper refused (logged as error sub-transactions), so a check over them is
 * exhaustive, not a sample.
 *
 * Format (FileTxnLog, jute BinaryOutputArchive, big-endian): a header `{int magic "ZKLG",
 * int version 2, long dbid}`, then entries `{long adler32, int length, byte[length] entry,
 * byte 'B'}` until a zero length (preallocated padding) or the end of the file. An entry is a
 * TxnHeader `{long clientId, int cxid, long zxid, long time, int type}`, the record of its
 * type, then (3.6+) an optional TxnDigest, which is ignored.
 */

/** ZooKeeper's OpCode values that appear in the log. */
export const TXN_TYPES = {
  create: 1,
  delete: 2,
  setData: 5,
  setACL: 7,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  error: -1,
  createSession: -10,
  closeSession: -11,
} as const;

/** One operation of a transaction (a multi holds several). */
export type TxnOp =
  | { type: 'create'; path: string; data: Buffer; ephemeral: boolean }
  | { type: 'delete'; path: string }
  | { type: 'setData'; path: string; data: Buffer; version: number }
  | { type: 'check'; path: string; version: number }
  | { type: 'error'; err: number }
  | { type: 'createSession'; timeoutMs: number }
  | { type: 'closeSession'; paths: string[] }
  | { type: 'other'; code: number };

/** One logged transaction. */
export interface Txn {
  /** epoch × 2^32 + counter (exact: epochs stay far below 2^21). */
  zxid: number;
  /** The server's wall clock when it proposed the transaction (ms since the epoch). */
  time: number;
  /** Session id (hex) of the client that sent it. */
  session: string;
  cxid: number;
  /** Whether this is a multi (its `ops` are the sub-transactions). */
  multi: boolean;
  /** Whether ZooKeeper refused it (a top-level error, or a multi of errors): it changed nothing. */
  failed: boolean;
  ops: TxnOp[];
}

const MAGIC = 0x5a4b4c47; // "ZKLG"

/** A cursor over jute's big-endian binary encoding. */
class JuteReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  int(): number {
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  long(): number {
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return Number(v);
  }

  longHex(): string {
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v.toString(16);
  }

  bool(): boolean {
    return this.buf.readUInt8(this.pos++) !== 0;
  }

  buffer(): Buffer {
    const len = this.int();
    if (len < 0) return Buffer.alloc(0);
    if (len > this.remaining) throw new Error(`jute buffer of ${len} bytes past the end`);
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  string(): string {
    return this.buffer().toString('utf8');
  }

  vector<T>(item: () => T): T[] {
    const n = this.int();
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item());
    return out;
  }

  acl(): void {
    this.int(); // perms
    this.string(); // scheme
    this.string(); // id
  }
}

/** Decodes the record of one (sub-)transaction of type `type`. */
function readOp(type: number, r: JuteReader): TxnOp {
  switch (type) {
    case TXN_TYPES.create:
    case TXN_TYPES.create2: {
      const path = r.string();
      const data = Buffer.from(r.buffer());
      r.vector(() => r.acl());
      return { type: 'create', path, data, ephemeral: r.bool() };
    }
    case TXN_TYPES.createContainer:
    case TXN_TYPES.createTTL: {
      const path = r.string();
      return { type: 'create', path, data: Buffer.from(r.buffer()), ephemeral: false };
    }
    case TXN_TYPES.delete:
    case TXN_TYPES.deleteContainer:
      return { type: 'delete', path: r.string() };
    case TXN_TYPES.setData: {
      const path = r.string();
      const data = Buffer.from(r.buffer());
      return { type: 'setData', path, data, version: r.int() };
    }
    case TXN_TYPES.check: {
      const path = r.string();
      return { type: 'check', path, version: r.int() };
    }
    case TXN_TYPES.error:
      return { type: 'error', err: r.int() };
    case TXN_TYPES.createSession:
      return { type: 'createSession', timeoutMs: r.int() };
    case TXN_TYPES.closeSession:
      // 3.6+ logs the ephemerals to delete (zookeeper.closeSessionTxn.enabled, on by default).
      return { type: 'closeSession', paths: r.remaining >= 4 ? r.vector(() => r.string()) : [] };
    default:
      return { type: 'other', code: type };
  }
}

/** Decodes one log entry (header and record). */
export function decodeTxnEntry(entry: Buffer): Txn {
  const r = new JuteReader(entry);
  const session = r.longHex();
  const cxid = r.int();
  const zxid = r.long();
  const time = r.long();
  const type = r.int();
  if (type === TXN_TYPES.multi) {
    const ops = r.vector(() => {
      const subType = r.int();
      return readOp(subType, new JuteReader(r.buffer()));
    });
    const failed = ops.some((o) => o.type === 'error');
    return { zxid, time, session, cxid, multi: true, failed, ops };
  }
  const op = readOp(type, r);
  return { zxid, time, session, cxid, multi: false, failed: op.type === 'error', ops: [op] };
}

/** Adler-32, the checksum FileTxnLog writes before each entry. */
export function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length;) {
    // 3800 bytes keep the sums below 2^31 between reductions.
    const end = Math.min(i + 3800, data.length);
    for (; i < end; i++) {
      a += data[i] as number;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return (b * 65536 + a) >>> 0;
}

/**
 * Every transaction of one log file, in file order. Reading stops at the padding, at the end,
 * or at a torn or corrupt last entry (a server killed mid-write), as ZooKeeper's own reader does.
 */
export function parseTxnLog(file: Buffer): Txn[] {
  if (file.length < 16 || file.readInt32BE(0) !== MAGIC) {
    throw new Error('not a ZooKeeper transaction log (bad magic)');
  }
  const out: Txn[] = [];
  let pos = 16;
  while (pos + 12 <= file.length) {
    const crc = Number(file.readBigUInt64BE(pos));
    const len = file.readInt32BE(pos + 8);
    if (len <= 0 || pos + 12 + len + 1 > file.length) break;
    const entry = file.subarray(pos + 12, pos + 12 + len);
    if (adler32(entry) !== crc || file[pos + 12 + len] !== 0x42) break;
    out.push(decodeTxnEntry(entry));
    pos += 12 + len + 1;
  }
  return out;
}
