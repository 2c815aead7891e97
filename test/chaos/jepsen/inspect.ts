/**
 * `tsx test/chaos/jepsen/inspect.ts <run dir> <substring>…`: prints every committed
 * transaction of a finished run that touches a path containing one of the substrings (e.g. a
 * task id), with its time, zxid, session, fence and data — the evidence behind a violation.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { mergeMemberLogs, readMemberLog } from './zk/txn-history.js';

function main(): void {
  const [dir, ...needles] = process.argv.slice(2);
  if (!dir || needles.length === 0) {
    process.stderr.write('usage: tsx test/chaos/jepsen/inspect.ts <run dir> <substring>…\n');
    process.exit(2);
  }
  const zkDir = path.join(dir, 'zk');
  const members = readdirSync(zkDir).map((m) => path.join(zkDir, m, 'data'));
  const { committed } = mergeMemberLogs(members.map(readMemberLog), members);
  for (const txn of committed) {
    const hit = txn.ops.some(
      (o) =>
        ('path' in o && needles.some((n) => o.path.includes(n))) ||
        (o.type === 'closeSession' && o.paths.some((p) => needles.some((n) => p.includes(n)))),
    );
    if (!hit) continue;
    const fence = txn.multi && txn.ops[0]?.type === 'check' ? ` fence=${txn.ops[0].path}` : '';
    process.stdout.write(
      `${new Date(txn.time).toISOString()} 0x${txn.zxid.toString(16)} session=${txn.session}${fence}\n`,
    );
    for (const o of txn.ops) {
      const data =
        'data' in o && o.data.length > 0 ? ` ${o.data.toString('utf8').slice(0, 4000)}` : '';
      const where =
        'path' in o ? ` ${o.path}` : o.type === 'closeSession' ? ` ${o.paths.join(' ')}` : '';
      process.stdout.write(`    ${o.type}${where}${data}\n`);
    }
  }
}

main();
