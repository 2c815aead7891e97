import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { z } from 'zod';
import { isValidChroot } from '../coordination/index.js';

const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$/;

const configSchema = z
  .object({
    replicaId: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (1 to 64)'),
    zookeeper: z
      .object({
        connect: z
          .string()
          .refine(
            (s) =>
              s.split(',').every((hp) => hostPort.test(hp) && Number(hp.split(':')[1]) < 65536),
            'must be host:port[,host:port…] (no chroot here: use zookeeper.chroot)',
          ),
        chroot: z.string().refine(isValidChroot, 'must be an absolute path like /thales'),
        sessionTimeoutMs: z.number().int().min(400).max(60_000),
      })
      .strict(),
    http: z.object({ host: z.string().min(1), port: z.number().int().min(0).max(65535) }).strict(),
    grpc: z.object({ host: z.string().min(1), port: z.number().int().min(0).max(65535) }).strict(),
    /** The host other processes use to reach this replica. */
    advertiseHost: z.string().min(1),
    /** Enables `/api/debug/*` (used by the fault tests; never on in production). */
    debugApi: z.boolean(),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']),
    /** Worker threads of the leader's offer matcher pool (and so shards per large cycle). */
    matcherThreads: z.number().int().min(1).max(256),
  })
  .strict();

/** A validated scheduler configuration. */
export type SchedulerConfig = z.infer<typeof configSchema>;

/** A configuration problem, naming the key and where it came from. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const DEFAULTS = {
  zookeeper: { connect: '127.0.0.1:2181', chroot: '/thales', sessionTimeoutMs: 10_000 },
  http: { host: '127.0.0.1', port: 7070 },
  grpc: { host: '127.0.0.1', port: 7071 },
  advertiseHost: '127.0.0.1',
  debugApi: false,
  logLevel: 'info',
  // One per core: the matcher is CPU-bound and the leader thread only encodes and settles.
  matcherThreads: os.availableParallelism(),
};

/** Flags of `thales scheduler`, each mapped to the config key it sets. */
const FLAGS = {
  config: { type: 'string' },
  'replica-id': { type: 'string' },
  zk: { type: 'string' },
  chroot: { type: 'string' },
  'session-timeout-ms': { type: 'string' },
  host: { type: 'string' },
  'http-port': { type: 'string' },
  'grpc-port': { type: 'string' },
  'advertise-host': { type: 'string' },
  'debug-api': { type: 'boolean' },
  'log-level': { type: 'string' },
  'matcher-threads': { type: 'string' },
} as const;

/** Environment variables, each mapped to the config key it sets. */
const ENV: Record<string, string> = {
  THALES_REPLICA_ID: 'replicaId',
  THALES_ZK_CONNECT: 'zookeeper.connect',
  THALES_ZK_CHROOT: 'zookeeper.chroot',
  THALES_ZK_SESSION_TIMEOUT_MS: 'zookeeper.sessionTimeoutMs',
  THALES_HTTP_PORT: 'http.port',
  THALES_GRPC_PORT: 'grpc.port',
  THALES_ADVERTISE_HOST: 'advertiseHost',
  THALES_LOG_LEVEL: 'logLevel',
  THALES_MATCHER_THREADS: 'matcherThreads',
};

const FLAG_KEYS: Record<string, string> = {
  'replica-id': 'replicaId',
  zk: 'zookeeper.connect',
  chroot: 'zookeeper.chroot',
  'session-timeout-ms': 'zookeeper.sessionTimeoutMs',
  'http-port': 'http.port',
  'grpc-port': 'grpc.port',
  'advertise-host': 'advertiseHost',
  'debug-api': 'debugApi',
  'log-level': 'logLevel',
  'matcher-threads': 'matcherThreads',
};

const NUMERIC = new Set(['zookeeper.sessionTimeoutMs', 'http.port', 'grpc.port', 'matcherThreads']);

/**
 * Builds the configuration from defaults, then a file (`--config`, YAML or JSON), then the
 * environment, then flags; validates it and throws a {@link ConfigError} naming the key.
 */
export function loadSchedulerConfig(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): SchedulerConfig {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  } catch (err) {
    throw new ConfigError(`flags: ${(err as Error).message}`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const config = structuredClone(DEFAULTS) as Record<string, unknown>;
  if (typeof values.config === 'string') merge(config, readConfigFile(values.config));
  for (const [name, key] of Object.entries(ENV)) {
    const raw = env[name];
    if (raw !== undefined) setKey(config, key, coerce(key, raw, `environment ${name}`));
  }
  if (values.host !== undefined) {
    setKey(config, 'http.host', values.host);
    setKey(config, 'grpc.host', values.host);
  }
  for (const [flag, key] of Object.entries(FLAG_KEYS)) {
    const raw = values[flag];
    if (raw !== undefined) setKey(config, key, coerce(key, raw, `flag --${flag}`));
  }
  if (config.replicaId === undefined) {
    const http = config.http as { port: number };
    config.replicaId = `${os.hostname().split('.')[0]}-${http.port}`;
  }
  return validate(config);
}

function validate(config: unknown): SchedulerConfig {
  const result = configSchema.safeParse(config);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new ConfigError('invalid configuration');
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? `${issue.path.join('.')}.` : '';
    throw new ConfigError(`unknown configuration key '${where}${issue.keys.join(`', '${where}`)}'`);
  }
  throw new ConfigError(`configuration key '${issue.path.join('.')}': ${issue.message}`);
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file}: not valid YAML/JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`config file ${file}: must hold a mapping of configuration keys`);
  }
  return value as Record<string, unknown>;
}

function coerce(key: string, raw: string | boolean, source: string): unknown {
  if (!NUMERIC.has(key) || typeof raw !== 'string') return raw;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) {
    throw new ConfigError(`${source}: '${raw}' is not a number (for ${key})`);
  }
  return n;
}

function setKey(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) {
    if (typeof node[p] !== 'object' || node[p] === null) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

function merge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(source)) {
    const existing = target[k];
    if (isPlainObject(v) && isPlainObject(existing)) merge(existing, v);
    else target[k] = v;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
