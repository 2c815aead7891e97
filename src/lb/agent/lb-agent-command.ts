import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DAEMON_SESSION_TIMEOUT_MS, startDaemon } from '../../daemon/index.js';
import { parseLbId } from '../lb-validation.js';
import { LbAgent } from './lb-agent.js';
import { NGINX_MODULES_DIR } from './nginx-lua.js';
import { loadTemplates } from './template-loader.js';

/** Usage of `thales lb-agent`. */
export const LB_AGENT_USAGE = `lb-agent    run an nginx lb-agent for a group (flags: --group G, --scheduler host:port[,…]
              or --zk host:port[,…] [--chroot /thales] [--zk-session-timeout-ms 10000],
              --nginx-port, --work-dir, --nginx-bin, --http-port, --agent-id, --template-dir,
              --static-upstreams, --keep-nginx)`;

/**
 * `thales lb-agent`: parses flags, starts the agent, stops it on SIGTERM/SIGINT. `version` is
 * what `/status` reports (the release's, so an upgrade can check which one runs).
 */
export async function runLbAgent(argv: string[], version = 'unknown'): Promise<void> {
  const { v, group, agentId, nginxPort, sessionTimeoutMs, dynamicUpstreams } =
    parseLbAgentArgs(argv);
  const daemon = startDaemon({
    logBindings: { component: 'lb-agent', group, agentId },
    metrics: { labels: { role: 'lb-agent', agent: agentId } },
    ...(v.zk ? { zookeeper: { connect: v.zk, chroot: v.chroot, sessionTimeoutMs } } : {}),
    schedulers: v.scheduler ? v.scheduler.split(',') : [],
  });
  const agent = new LbAgent({
    group,
    agentId,
    discovery: daemon.discovery,
    nginxBin: v['nginx-bin'],
    nginxPort,
    workDir: v['work-dir'],
    httpHost: v['http-host'],
    httpPort: Number(v['http-port']),
    ...(v['template-dir'] ? { templates: loadTemplates(v['template-dir']) } : {}),
    driftCheckMs: Number(v['drift-check-ms']),
    dynamicUpstreams,
    keepNginxOnStop: v['keep-nginx'],
    version,
    logger: daemon.logger,
    registry: daemon.registry,
  });
  daemon.stopOnSignal(() => agent.stop());
  await agent.start();
}

/** The flags of `thales lb-agent`, checked; an error names the flag at fault. */
function parseLbAgentArgs(argv: string[]) {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      group: { type: 'string' },
      'agent-id': { type: 'string' },
      scheduler: { type: 'string' },
      zk: { type: 'string' },
      chroot: { type: 'string', default: '/thales' },
      'zk-session-timeout-ms': {
        type: 'string',
        default: String(DEFAULT_DAEMON_SESSION_TIMEOUT_MS),
      },
      'nginx-port': { type: 'string', default: '8080' },
      'nginx-bin': { type: 'string', default: '/usr/sbin/nginx' },
      'work-dir': { type: 'string', default: '/var/lib/thales/lb-agent' },
      'http-port': { type: 'string', default: '7090' },
      'http-host': { type: 'string', default: '127.0.0.1' },
      'template-dir': { type: 'string' },
      'drift-check-ms': { type: 'string', default: '10000' },
      'static-upstreams': { type: 'boolean', default: false },
      'keep-nginx': { type: 'boolean', default: false },
    },
  });
  if (!v.group) throw new Error('lb-agent: --group is required');
  if (!v.scheduler && !v.zk) throw new Error('lb-agent: --scheduler or --zk is required');
  const group = parseLbId(v.group, 'group');
  const sessionTimeoutMs = Number(v['zk-session-timeout-ms']);
  if (!Number.isInteger(sessionTimeoutMs) || sessionTimeoutMs < 400 || sessionTimeoutMs > 60_000) {
    throw new Error(
      `lb-agent: invalid flag --zk-session-timeout-ms: expected 400-60000 ms, got '${v['zk-session-timeout-ms']}'`,
    );
  }
  const dynamicUpstreams = !v['static-upstreams'];
  const luaModule = path.join(NGINX_MODULES_DIR, 'ngx_http_lua_module.so');
  if (dynamicUpstreams && !existsSync(luaModule)) {
    throw new Error(
      `lb-agent: nginx's Lua module ${luaModule} is missing: install libnginx-mod-http-lua (scripts/setup.sh does), or run with --static-upstreams`,
    );
  }
  const nginxPort = Number(v['nginx-port']);
  const agentId = parseLbId(v['agent-id'] ?? `${os.hostname()}-${nginxPort}`, 'agentId');
  return { v, group, agentId, nginxPort, sessionTimeoutMs, dynamicUpstreams };
}
