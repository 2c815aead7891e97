/**
 * `thales request bounce ID [--wait]` and `thales tasks scheduled [--request ID]`: a rolling
 * restart, and the instances the leader has not placed yet with the matcher's reasons.
 */
import type { Command } from 'commander';
import { waitForBounce } from './bounce-wait.js';
import { type ClientOptions, clientCommand, clientOf, formatOf, seg } from './client-command.js';
import { printJson, printList } from './output.js';

interface ScheduledRow {
  requestId: string;
  deployId: string;
  instanceNo: number;
  resources: { cpus: number; memoryMb: number };
  pendingSince: number;
  offers: number;
  rejections: Record<string, number>;
}

/** Adds `bounce` under `thales request`. */
export function addBounceCommand(request: Command): void {
  clientCommand(request, 'bounce', 'restart every instance through the deploy steps', 'json')
    .argument('<id>', 'request id')
    .option('--message <text>', 'why, kept with the bounce')
    .option('--wait', 'wait for the result, showing progress; non-zero exit unless SUCCEEDED')
    .action(async (id: string, options: ClientOptions & { message?: string; wait?: boolean }) => {
      const client = clientOf(options);
      const body = options.message ? { message: options.message } : {};
      const answer = await client.call<{ at: number }>(
        'POST',
        `/api/requests/request/${seg(id)}/bounce`,
        body,
      );
      if (!options.wait) return printJson(answer);
      const done = await waitForBounce(client, id, answer.at);
      printJson(done.request);
      process.exitCode = done.exitCode;
    });
}

/** Adds `scheduled` under `thales tasks`. */
export function addScheduledCommand(tasks: Command): void {
  clientCommand(tasks, 'scheduled', 'list instances waiting to be placed, and why', 'table')
    .option('--request <id>', 'only the instances of this request')
    .action(async (options: ClientOptions & { request?: string }) => {
      const path = options.request
        ? `/api/tasks/scheduled/request/${seg(options.request)}`
        : '/api/tasks/scheduled';
      const rows = await clientOf(options).call<ScheduledRow[]>('GET', path);
      printList(rows, formatOf(options), {
        head: ['REQUEST', 'DEPLOY', 'INSTANCE', 'CPUS', 'MEMORY', 'PENDING SINCE', 'OFFERS', 'WHY'],
        row: (row) => [
          row.requestId,
          row.deployId,
          row.instanceNo,
          row.resources.cpus,
          row.resources.memoryMb,
          new Date(row.pendingSince).toISOString(),
          row.offers,
          whyOf(row),
        ],
      });
    });
}

/** The reasons, most frequent first (`INSUFFICIENT_CPUS=2,RACK_SATURATED=1`), or why none. */
function whyOf(row: ScheduledRow): string {
  const reasons = Object.entries(row.rejections).sort((a, b) => b[1] - a[1]);
  if (reasons.length) return reasons.map(([name, n]) => `${name}=${n}`).join(',');
  return row.offers === 0 ? 'no usable agent' : '-';
}
