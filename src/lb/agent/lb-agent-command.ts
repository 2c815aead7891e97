import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Coordinator } from '../../coordination/index.js';
import { makeLogger, makeRegistry } from '../../observability/index.js';
import { readLeaderGrpcAddress } from '../../leader/index.js';
import { parseLbId } from '../lb-validation.js';
import { LbAgent } from './lb-agent.js';
import { NGINX_MODULES_DIR } from './nginx-lua.js';
import { loadTemplates } from './template-loader.js';

/** Usage of `thales lb-agent`. */
export const LB_AGENT_USAGE = `lb-agent    run an nginx lb-agent for a group (flags: --group G, --scheduler host:port[,…]
              or --zk host:port[,…] [--chroot /thales], --nginx-port, --work-dir, --nginx-bin,
              --http-port, --agent-id, --template-dir, --static-upstreams, --keep-nginx)`;

/**
 * `thales lb-agent`: parses flags, starts the agent, stops it on SIGTERM/SIGINT. `version` is
 * what `/status` reports (the release's, so an upgrade can check which one runs).
 */
export async function runLbAgent(argv: string[], version = 'unknown'): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      group: { type: 'string' },
      'agent-id': { type: 'string' },
      scheduler: { type: 'string' },
      zk: { type: 'string' },
      chroot: { type: 'string', default: '/thales' },
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
  const dynamicUpstreams = !v['static-upstreams'];
  const luaModule = path.join(NGINX_MODULES_DIR, 'ngx_http_lua_module.so');
  if (dynamicUpstreams && !existsSync(luaModule)) {
    throw new Error(
      `lb-agent: nginx's Lua module ${luaModule} is missing: install libnginx-mod-http-lua (scripts/setup.sh does), or run with --static-upstreams`,
    );
  }
  const nginxPort = Number(v['nginx-port']);
  const agentId = parseLbId(v['agent-id'] ?? `${os.hostname()}-${nginxPort}`, 'agentId');
  const logger = makeLogger({ component: 'lb-agent', group, agentId });
  const fixed = v.scheduler ? v.scheduler.split(',') : [];
  let zk: Coordinator | undefined;
  if (v.zk) {
    zk = new Coordinator({
      connectString: v.zk,
      chroot: v.chroot,
      sessionTimeoutMs: 10_000,
      logger,
    });
    zk.start();
  }
  const addresses = async (): Promise<string[]> => {
    const leader = zk?.ready ? await readLeaderGrpcAddress(zk).catch(() => null) : null;
    return leader ? [leader, ...fixed] : fixed;
  };
  const agent = new LbAgent({
    group,
    agentId,
    addresses,
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
    logger,
    registry: makeRegistry({ role: 'lb-agent', agent: agentId }),
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
