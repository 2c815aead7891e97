import type { LbService, LbUpstream } from '../lb-model.js';
import {
  MEMBERS_FILE,
  membersLine,
  renderBalancer,
  renderLoadModules,
  renderLuaHttp,
  renderMembersLocation,
} from './nginx-lua.js';

/**
 * Renders one service into nginx config text. Pure: same input, same bytes, so the agent can
 * compare what is on disk with what it acked.
 *
 * A template is two texts with `{{placeholders}}`: `upstream` (http context) and `location`
 * (server context, rendered once per path). Placeholders: serviceId, upstreamName, servers,
 * path, extra (the `nginxExtraConfigs` option), and `option.<name>` for any service option.
 *
 * `{{balancer}}` makes the upstream dynamic (nginx-lua.ts): it becomes the Lua balancer, and
 * the members go to the shared dictionary instead of the config, so changing them needs no
 * reload. When some upstream is not an IPv4 `address:port` (the balancer cannot resolve
 * names), `{{balancer}}` falls back to the `server` lines, as `{{servers}}` always is.
 */
export interface NginxTemplate {
  upstream: string;
  location: string;
  /** Used instead of `location` while the service has no upstreams. */
  emptyLocation: string;
}

/** The built-in template, named `default`. */
export const DEFAULT_TEMPLATE: NginxTemplate = {
  upstream: [
    '# service {{serviceId}}',
    'upstream {{upstreamName}} {',
    '{{balancer}}',
    '    keepalive 16;',
    '}',
    '',
  ].join('\n'),
  location: [
    'location {{path}} {',
    '    proxy_pass http://{{upstreamName}};',
    '    proxy_http_version 1.1;',
    '    proxy_set_header Connection "";',
    '    proxy_set_header Host $host;',
    '    proxy_next_upstream error timeout http_502;',
    '{{extra}}',
    '}',
    '',
  ].join('\n'),
  emptyLocation: ['location {{path}} {', '    return 503;', '}', ''].join('\n'),
};

/** The files of one service: its upstream block and its locations. */
export interface RenderedService {
  upstreamConf: string;
  locationConf: string;
  /**
   * A dynamic upstream's members (`host:port` separated by spaces, possibly none); absent
   * when the members are in `upstreamConf`. A change of members alone needs no reload.
   */
  members?: string;
}

const IPV4_HOST_PORT =
  /^(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}:\d{1,5}$/;

/** nginx's name for a service's upstream block. */
export function upstreamName(serviceId: string): string {
  return `thales_${serviceId.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** Renders `service` with `upstreams`; an unknown template name is an error. */
export function renderService(
  service: LbService,
  upstreams: readonly LbUpstream[],
  templates: Readonly<Record<string, NginxTemplate>> = { default: DEFAULT_TEMPLATE },
  /** Whether the agent balances from Lua (`--static-upstreams` turns it off). */
  dynamicUpstreams = true,
): RenderedService {
  const template = templates[service.templateName];
  if (!template) throw new Error(`unknown template '${service.templateName}'`);
  const extra = (service.options.nginxExtraConfigs ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => `    ${l}`)
    .join('\n');
  const name = upstreamName(service.serviceId);
  const servers = upstreams.map((u) => `    server ${u.upstream};`).join('\n');
  const dynamic =
    dynamicUpstreams &&
    template.upstream.includes('{{balancer}}') &&
    upstreams.every((u) => IPV4_HOST_PORT.test(u.upstream));
  const vars: Record<string, string> = {
    serviceId: service.serviceId,
    upstreamName: name,
    servers,
    balancer: dynamic ? renderBalancer(name) : servers,
    extra,
  };
  for (const [k, v] of Object.entries(service.options)) vars[`option.${k}`] = v;
  const paths = [service.basePath, ...service.additionalPaths];
  const locationTemplate = upstreams.length > 0 ? template.location : template.emptyLocation;
  const rendered: RenderedService = {
    upstreamConf:
      upstreams.length > 0
        ? fill(template.upstream, vars)
        : `# service ${service.serviceId}: no upstreams\n`,
    locationConf: paths.map((p) => fill(locationTemplate, { ...vars, path: p })).join(''),
  };
  if (dynamic && upstreams.length > 0)
    rendered.members = upstreams.map((u) => u.upstream).join(' ');
  return rendered;
}

/** Replaces `{{name}}` placeholders; an unknown one becomes empty; empty lines it leaves go. */
function fill(text: string, vars: Record<string, string>): string {
  return text
    .split('\n')
    .map((line) => {
      const blank = /^\s*\{\{[^}]+\}\}\s*$/.test(line);
      const out = line.replace(/\{\{([A-Za-z0-9_.]+)\}\}/g, (_m, k: string) => vars[k] ?? '');
      return blank && out.trim() === '' ? null : out;
    })
    .filter((l): l is string => l !== null)
    .join('\n');
}

/** Where an lb-agent's nginx lives and listens, and whether it balances from Lua. */
export interface ConfOptions {
  prefix: string;
  port: number;
  host?: string;
  /** Load the Lua module and the balancer (default); false renders plain nginx. */
  dynamicUpstreams?: boolean;
}

/**
 * The main nginx.conf of an lb-agent: its own prefix, pid, logs and temp dirs; one listening
 * server that includes every service's locations and the version location the agent polls
 * to know a reload has taken effect. Services are included through two aggregate files (see
 * {@link renderAggregates}), not the 2 × N per-service files: nginx opens two files at a
 * reload instead of thousands, which cuts its parse time by about a quarter.
 */
export function renderMainConf(o: ConfOptions): string {
  const p = o.prefix;
  return renderConf(
    o,
    `${p}/nginx.pid`,
    [`${p}/${AGGREGATE_UPSTREAMS}`],
    [`${p}/${AGGREGATE_LOCATIONS}`],
    `${p}/${MEMBERS_FILE}`,
  );
}

/** The aggregate files the main config includes, relative to the prefix. */
export const AGGREGATE_UPSTREAMS = 'conf/all-upstreams.conf';
export const AGGREGATE_LOCATIONS = 'conf/all-locations.conf';

/**
 * The contents of the two aggregate files: every service's upstream file, and every
 * service's location file, concatenated in service-id order. Pure.
 */
export function renderAggregates(services: ReadonlyMap<string, RenderedService>): {
  upstreams: string;
  locations: string;
  members: string;
} {
  const ids = [...services.keys()].sort();
  const join = (pick: (r: RenderedService) => string): string =>
    ids.map((id) => `# file ${id}.conf\n${pick(services.get(id) as RenderedService)}\n`).join('');
  return {
    upstreams: join((r) => r.upstreamConf),
    locations: join((r) => r.locationConf),
    members: renderMembers(services, ids),
  };
}

/** The members lines (nginx-lua.ts) of the dynamic services among `ids`. */
export function renderMembers(
  services: ReadonlyMap<string, RenderedService>,
  ids: readonly string[],
): string {
  return ids
    .map((id) => {
      const members = services.get(id)?.members;
      return members === undefined ? '' : membersLine(upstreamName(id), members);
    })
    .join('');
}

/**
 * A config for `nginx -t` holding only the given services (and the same skeleton as the main
 * config): a batch is validated without re-parsing the thousands of services that were
 * already validated. Conflicts between services cannot arise (the leader locks paths per
 * group and upstream names derive from unique service ids); the reload itself is still
 * checked by waiting for the new generation to be served.
 */
export function renderTestConf(o: ConfOptions, serviceIds: readonly string[]): string {
  const p = o.prefix;
  return renderConf(
    o,
    `${p}/nginx-test.pid`,
    serviceIds.map((id) => `${p}/conf/upstreams/${id}.conf`),
    serviceIds.map((id) => `${p}/conf/locations/${id}.conf`),
  );
}

function renderConf(
  o: ConfOptions,
  pid: string,
  upstreams: string[],
  locations: string[],
  membersFile?: string,
): string {
  const p = o.prefix;
  const inc = (files: string[], indent: string): string =>
    files.map((f) => `${indent}include ${f};`).join('\n');
  const lua = o.dynamicUpstreams ?? true;
  return `# Rendered by thales lb-agent. Do not edit.
${lua ? renderLoadModules() : ''}
worker_processes 1;
pid ${pid};
error_log ${p}/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path ${p}/tmp/body;
    proxy_temp_path ${p}/tmp/proxy;
    fastcgi_temp_path ${p}/tmp/fastcgi;
    uwsgi_temp_path ${p}/tmp/uwsgi;
    scgi_temp_path ${p}/tmp/scgi;
    server_names_hash_bucket_size 128;
    variables_hash_bucket_size 128;
${lua ? renderLuaHttp(membersFile) : ''}
${inc(upstreams, '    ')}
    server {
        listen ${o.host ?? '127.0.0.1'}:${o.port};
        root ${p}/html;
        include ${p}/conf/version.conf;
${lua ? renderMembersLocation() : ''}
${inc(locations, '        ')}
    }
}
`;
}

/**
 * The location answering the config generation the agent last rendered and the pid of the
 * worker answering (so the agent knows which workers belong to older generations).
 */
export function renderVersionConf(generation: number): string {
  return `location = /__thales/version {\n    default_type text/plain;\n    return 200 "${generation} $pid";\n}\n`;
}
