import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TEMPLATE,
  type NginxTemplate,
  lbServiceSchema,
  renderMainConf,
  renderService,
  renderVersionConf,
  upstreamName,
} from '../../../src/lb/index.js';
import { renderAggregates } from '../../../src/lb/agent/nginx-renderer.js';

const service = (over: Record<string, unknown> = {}) =>
  lbServiceSchema.parse({ serviceId: 'web.api-1', basePath: '/web', groups: ['edge'], ...over });

describe('renderService', () => {
  it('renders an upstream block and one location per path', () => {
    const out = renderService(service({ additionalPaths: ['/w2'] }), [
      { upstream: '10.0.0.1:80' },
      { upstream: 'h:81' },
    ]);
    expect(out.upstreamConf).toContain('upstream thales_web_api_1 {');
    expect(out.upstreamConf).toContain('    server 10.0.0.1:80;\n    server h:81;');
    expect(out.locationConf.match(/^location /gm)).toHaveLength(2);
    expect(out.locationConf).toContain('location /w2 {');
    expect(out.locationConf).toContain('proxy_pass http://thales_web_api_1;');
  });

  it('balances IPv4 upstreams from Lua: members apart, so changing them changes no config', () => {
    const one = renderService(service(), [
      { upstream: '10.0.0.1:80' },
      { upstream: '10.0.0.2:81' },
    ]);
    expect(one.members).toBe('10.0.0.1:80 10.0.0.2:81');
    expect(one.upstreamConf).toContain(
      'balancer_by_lua_block { thales.balance("thales_web_api_1") }',
    );
    expect(one.upstreamConf).not.toContain('10.0.0.1');
    const other = renderService(service(), [{ upstream: '10.0.0.9:9' }]);
    expect(other.upstreamConf).toBe(one.upstreamConf);
    expect(other.locationConf).toBe(one.locationConf);
    expect(other.members).toBe('10.0.0.9:9');
  });

  it('answers 503 and declares no upstream while there are no upstreams', () => {
    const out = renderService(service(), []);
    expect(out.upstreamConf).not.toContain('upstream ');
    expect(out.locationConf).toContain('return 503;');
  });

  it('puts nginxExtraConfigs lines inside the location', () => {
    const out = renderService(
      service({ options: { nginxExtraConfigs: 'proxy_read_timeout 5s;\nadd_header X-A b;' } }),
      [{ upstream: 'h:1' }],
    );
    expect(out.locationConf).toMatch(/ {4}proxy_read_timeout 5s;\n {4}add_header X-A b;\n}/);
  });

  it('uses an overriding template, with options as placeholders; unknown template throws', () => {
    const custom: NginxTemplate = {
      upstream: 'upstream {{upstreamName}} {\n{{servers}}\n}\n',
      location: 'location {{path}} { proxy_pass http://{{upstreamName}}; # {{option.team}}\n}\n',
      emptyLocation: '',
    };
    const out = renderService(
      service({ templateName: 'mine', options: { team: 'blue' } }),
      [{ upstream: 'h:1' }],
      { mine: custom },
    );
    expect(out.locationConf).toBe(
      'location /web { proxy_pass http://thales_web_api_1; # blue\n}\n',
    );
    expect(() => renderService(service({ templateName: 'nope' }), [])).toThrow(/unknown template/);
  });

  it('is deterministic and lists every upstream exactly once (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { maxLength: 20 }),
        (ports) => {
          const ups = ports.map((p) => ({ upstream: `10.1.2.3:${p}` }));
          const a = renderService(service(), ups);
          expect(renderService(service(), ups)).toEqual(a);
          // Dynamic (IPv4 upstreams): every upstream once in the members, none in the config.
          const members = (a.members ?? '').split(' ').filter((m) => m !== '');
          expect(members.sort()).toEqual(ups.map((u) => u.upstream).sort());
          for (const u of ups) expect(a.upstreamConf).not.toContain(u.upstream);
          // Static (a template with {{servers}}): every upstream exactly once in the config.
          const s = renderService(service({ templateName: 'static' }), ups, {
            static: {
              ...DEFAULT_TEMPLATE,
              upstream: 'upstream {{upstreamName}} {\n{{servers}}\n}\n',
            },
          });
          expect(s.members).toBeUndefined();
          for (const u of ups)
            expect(s.upstreamConf.split(`server ${u.upstream};`)).toHaveLength(2);
          // Braces balance, so a rendered file never leaks into the enclosing context.
          for (const text of [a.upstreamConf, a.locationConf, s.upstreamConf]) {
            expect(text.split('{').length).toBe(text.split('}').length);
          }
        },
      ),
    );
  });

  it('names upstreams with nginx-safe characters only', () => {
    expect(upstreamName('a.b-c_d')).toBe('thales_a_b_c_d');
  });

  it('main conf includes services, version location and its own prefix', () => {
    const conf = renderMainConf({ prefix: '/p', port: 8081 });
    expect(conf).toContain('listen 127.0.0.1:8081;');
    expect(conf).toContain('include /p/conf/all-upstreams.conf;');
    expect(conf).toContain('include /p/conf/all-locations.conf;');
    expect(conf).toContain('include /p/conf/version.conf;');
    expect(conf).toContain('pid /p/nginx.pid;');
    expect(conf).toContain('load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;');
    expect(conf).toContain('lua_shared_dict thales_members');
    expect(conf).toContain('io.open("/p/conf/all-members.txt")');
    expect(conf).toContain('location = /__thales/members {');
    // --static-upstreams: plain nginx, no Lua.
    const plain = renderMainConf({ prefix: '/p', port: 8081, dynamicUpstreams: false });
    expect(plain).not.toMatch(/load_module|lua|__thales\/members/);
    const stat = renderService(service(), [{ upstream: '10.0.0.1:80' }], undefined, false);
    expect(stat.members).toBeUndefined();
    expect(stat.upstreamConf).toContain('server 10.0.0.1:80;');
  });

  it('aggregates every service file in id order, upstreams and locations apart', () => {
    const a = renderService(service({ serviceId: 'a', basePath: '/a' }), [{ upstream: 'h:1' }]);
    const b = renderService(service({ serviceId: 'b', basePath: '/b' }), [
      { upstream: '10.0.0.2:2' },
      { upstream: '10.0.0.3:3' },
    ]);
    const out = renderAggregates(
      new Map([
        ['b', b],
        ['a', a],
      ]),
    );
    expect(out.upstreams).toBe(
      `# file a.conf\n${a.upstreamConf}\n# file b.conf\n${b.upstreamConf}\n`,
    );
    expect(out.locations).toBe(
      `# file a.conf\n${a.locationConf}\n# file b.conf\n${b.locationConf}\n`,
    );
    // Only b is dynamic (a names a host the balancer cannot resolve, so it is static).
    expect(out.members).toBe('thales_b 10.0.0.2:2 10.0.0.3:3\n');
    expect(renderAggregates(new Map())).toEqual({ upstreams: '', locations: '', members: '' });
  });

  it('the version location names the generation and the answering worker', () => {
    expect(renderVersionConf(7)).toContain('return 200 "7 $pid";');
  });
});
