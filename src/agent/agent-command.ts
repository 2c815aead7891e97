import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Coordinator } from '../coordination/index.js';
import { makeLogger, makeRegistry } from '../observability/index.js';
import { Agent } from './agent.js';
import { AgentConfigError, parseAgentArgs } from './agent-config.js';
import { readLeaderGrpcAddress } from '../leader/index.js';
import { detectResources } from './resources.js';

/** The argv that starts an executor with the same Node as this agent (its light entry point). */
export function executorArgv(): string[] {
  // This module is dist/src/agent/agent-command.js, next to executor-main.js.
  const main = fileURLToPath(new URL('./executor-main.js', import.meta.url));
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  return [process.execPath, main];
}

/** `thales agent`: validates flags, starts the agent, stops it on SIGTERM/SIGINT. */
export async function runAgent(argv: string[], version: string): Promise<void> {
  let config;
  try {
    config = parseAgentArgs(argv, { host: os.hostname() });
  } catch (err) {
    if (err instanceof AgentConfigError) throw new Error(`agent: invalid flag ${err.message}`);
    throw err;
  }
  const workDir = path.resolve(config['work-dir']);
  mkdirSync(workDir, { recursive: true });
  const logger = makeLogger({});
  let zk: Coordinator | undefined;
  if (config.zk) {
    zk = new Coordinator({
      connectString: config.zk,
      chroot: config.chroot,
      sessionTimeoutMs: 10_000,
      logger,
    });
    zk.start();
  }
  const fixed = config.scheduler ?? [];
  const addresses = async (): Promise<string[]> => {
    const leader = zk?.ready ? await readLeaderGrpcAddress(zk).catch(() => null) : null;
    return leader ? [leader, ...fixed.filter((a) => a !== leader)] : fixed;
  };
  const agent = new Agent({
    workDir,
    ...(config['agent-id'] ? { agentId: config['agent-id'] } : {}),
    host: config.host,
    rack: config.rack,
    attributes: config.attribute,
    resources: detectResources(workDir, {
      ...(config.cpus !== undefined ? { cpus: config.cpus } : {}),
      ...(config['memory-mb'] !== undefined ? { memoryMb: config['memory-mb'] } : {}),
      ...(config['disk-mb'] !== undefined ? { diskMb: config['disk-mb'] } : {}),
    }),
    portRanges: config.ports,
    httpHost: config['http-host'],
    httpPort: config['http-port'],
    discovery: { addresses },
    executorArgv: executorArgv(),
    version,
    logger,
    registry: makeRegistry({ role: 'agent' }),
  });
  await agent.start();
  const onSignal = (): void => {
    void agent
      .stop()
      .then(() => zk?.close())
      .then(() => process.exit(0));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
