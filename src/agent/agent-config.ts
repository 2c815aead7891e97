import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_DAEMON_SESSION_TIMEOUT_MS } from '../daemon/index.js';
import { DEFAULT_RACK } from '../state/index.js';

/** Usage of `thales agent`. */
export const AGENT_USAGE = `agent       run a task agent (flags: --work-dir D, --scheduler host:port[,…] or --zk
              host:port[,…] [--chroot /thales] [--zk-session-timeout-ms 10000],
              [--agent-id ID] [--host H] [--rack R]
              [--attribute k=v …] [--cpus N --memory-mb N --disk-mb N] [--ports 31000-31999]
              [--http-port P] [--http-host H])
  executor    run one task in its sandbox (started by the agent: --sandbox D)`;

/** A validation failure naming the flag at fault. */
export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(`--${flag}: ${message}`);
  }
}

const hostPort = z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'expected host:port');
const positive = z.coerce.number().positive().finite();

/** The validated configuration of `thales agent`. */
export const agentConfigSchema = z
  .object({
    'work-dir': z.string().min(1),
    scheduler: z.array(hostPort).optional(),
    zk: z
      .string()
      .regex(/^[^\s,]+:\d+(,[^\s,]+:\d+)*$/, 'expected host:port[,host:port…]')
      .optional(),
    chroot: z.string().regex(/^(\/[A-Za-z0-9_.-]+)+$/, 'expected an absolute path like /thales'),
    'zk-session-timeout-ms': z.coerce.number().int().min(400).max(60_000),
    'agent-id': z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'letters, digits, _ . - only')
      .optional(),
    host: z.string().min(1),
    rack: z.string().min(1),
    attribute: z.record(z.string(), z.string()),
    cpus: positive.optional(),
    'memory-mb': positive.optional(),
    'disk-mb': positive.optional(),
    ports: z.array(z.object({ begin: z.number().int(), end: z.number().int() })),
    'http-port': z.coerce.number().int().min(0).max(65535),
    'http-host': z.string().min(1),
  })
  .refine((c) => c.scheduler || c.zk, {
    message: '--scheduler or --zk is required',
    path: ['scheduler'],
  });

/** {@link agentConfigSchema}'s output. */
export type AgentConfig = z.output<typeof agentConfigSchema>;

/** Parses `thales agent` flags; throws {@link AgentConfigError} naming the flag. */
export function parseAgentArgs(argv: string[], defaults: { host: string }): AgentConfig {
  let values;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        'work-dir': { type: 'string' },
        scheduler: { type: 'string' },
        zk: { type: 'string' },
        chroot: { type: 'string', default: '/thales' },
        'zk-session-timeout-ms': {
          type: 'string',
          default: String(DEFAULT_DAEMON_SESSION_TIMEOUT_MS),
        },
        'agent-id': { type: 'string' },
        host: { type: 'string', default: defaults.host },
        rack: { type: 'string', default: DEFAULT_RACK },
        attribute: { type: 'string', multiple: true, default: [] },
        cpus: { type: 'string' },
        'memory-mb': { type: 'string' },
        'disk-mb': { type: 'string' },
        ports: { type: 'string', default: '31000-31999' },
        'http-port': { type: 'string', default: '7075' },
        'http-host': { type: 'string', default: '0.0.0.0' },
      },
    }).values;
  } catch (err) {
    const flag = /'(--[^' ]+)/.exec(String(err))?.[1]?.slice(2) ?? 'flags';
    throw new AgentConfigError(flag, (err as Error).message);
  }
  const raw = {
    ...values,
    scheduler: values.scheduler?.split(',').filter(Boolean),
    attribute: parseAttributes(values.attribute),
    ports: parsePortRanges(values.ports),
  };
  const result = agentConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const flag = String(issue?.path[0] ?? 'flags');
    throw new AgentConfigError(flag, issue?.message ?? 'invalid');
  }
  if (!result.data['work-dir']) throw new AgentConfigError('work-dir', 'is required');
  return result.data;
}

function parseAttributes(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new AgentConfigError('attribute', `expected key=value, got '${item}'`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** Parses `31000-31999[,32000-32099]` into inclusive ranges; throws naming --ports. */
export function parsePortRanges(text: string): { begin: number; end: number }[] {
  return text.split(',').map((part) => {
    const m = /^(\d{1,5})-(\d{1,5})$/.exec(part.trim());
    const begin = Number(m?.[1]);
    const end = Number(m?.[2]);
    if (!m || begin < 1 || end > 65535 || begin > end)
      throw new AgentConfigError('ports', `expected begin-end within 1-65535, got '${part}'`);
    return { begin, end };
  });
}
