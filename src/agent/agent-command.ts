import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon } from '../daemon/index.js';
import { Agent } from './agent.js';
import { AgentConfigError, parseAgentArgs } from './agent-config.js';
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
  const daemon = startDaemon({
    logBindings: {},
    metrics: { labels: { role: 'agent' } },
    ...(config.zk
      ? {
          zookeeper: {
            connect: config.zk,
            chroot: config.chroot,
            sessionTimeoutMs: config['zk-session-timeout-ms'],
          },
        }
      : {}),
    schedulers: config.scheduler ?? [],
  });
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
    discovery: daemon.discovery,
    executorArgv: executorArgv(),
    version,
    logger: daemon.logger,
    registry: daemon.registry,
  });
  daemon.stopOnSignal(() => agent.stop());
  await agent.start();
}
