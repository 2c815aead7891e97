/**
 * The Lua side of dynamic upstreams (lua-nginx-module, Debian's libnginx-mod-http-lua).
 *
 * A service on a dynamic template has a fixed upstream block whose peer is chosen per request
 * by `thales.balance(<upstream name>)` from a shared dictionary. Changing its members is then
 * one POST to the agent-only location `/__thales/members`, effective for every worker's next
 * request, instead of an nginx reload (≈ 100–300 ms of parsing 1,000 services, plus the
 * master's 100 ms before it retires old workers). Services whose paths, options or template
 * change still go through `nginx -t` and a reload.
 *
 * The dictionary is also loaded from `conf/all-members.txt` whenever the master reads its
 * configuration (start and reload): a freshly started nginx serves the right members at once,
 * and because the agent writes that file before every POST, a reload can only ever load
 * members at least as new as the dictionary's. Keys of services absent from the file are
 * dropped then, so the dictionary does not grow with service churn.
 */

/** Where Debian installs nginx's dynamic modules. */
export const NGINX_MODULES_DIR = '/usr/lib/nginx/modules';
/** The modules a dynamic upstream needs, loaded in this order. */
export const LUA_MODULES = ['ndk_http_module.so', 'ngx_http_lua_module.so'] as const;
/** The file (under the prefix) listing each dynamic upstream's members, one line each. */
export const MEMBERS_FILE = 'conf/all-members.txt';
/** The shared dictionary's size: ~100k services of 10 members each. */
const DICT_SIZE = '32m';

/** One line of the members file or of a POST: `<upstream name> <host:port> <host:port>…`. */
export function membersLine(upstream: string, members: string): string {
  return members ? `${upstream} ${members}\n` : `${upstream}\n`;
}

/** `load_module` lines (main context). */
export function renderLoadModules(dir = NGINX_MODULES_DIR): string {
  return LUA_MODULES.map((m) => `load_module ${dir}/${m};`).join('\n');
}

/**
 * The http-context part: the dictionary, the balancer function, and (with `membersFile`) the
 * load of the members file at every configuration read. Lua lines are kept free of `$`,
 * `;`-only lines and unbalanced braces, which nginx's block parser would trip over.
 */
export function renderLuaHttp(membersFile: string | undefined): string {
  const load = membersFile
    ? `
        local keep = {}
        local f = io.open("${membersFile}")
        if f then
            for line in f:lines() do
                local name, err = thales.store(line)
                if name then keep[name] = true end
                if err then ngx.log(ngx.ERR, "thales: members of ", name, ": ", err) end
            end
            f:close()
            for _, name in ipairs(dict:get_keys(0)) do
                if not keep[name] then dict:delete(name) end
            end
        end`
    : '';
  return `    lua_shared_dict thales_members ${DICT_SIZE};
    init_by_lua_block {
        local dict = ngx.shared.thales_members
        thales = {}
        -- Stores one members line; returns its upstream name (nil for a blank line) and, when
        -- the dictionary had no room, the error.
        function thales.store(line)
            local name, rest = line:match("^(%S+)%s*(.*)")
            if not name then return nil end
            local ok, err = dict:safe_set(name, rest)
            if not ok then return name, err end
            return name
        end${load}
        local balancer = require "ngx.balancer"
        local cache = {}
        function thales.balance(name)
            local raw = dict:get(name)
            local c = cache[name]
            if not c or c.raw ~= raw then
                local peers = {}
                for host, port in (raw or ""):gmatch("(%S+):(%d+)") do
                    peers[#peers + 1] = { host, tonumber(port) }
                end
                c = { raw = raw, peers = peers, i = 0 }
                cache[name] = c
            end
            local n = #c.peers
            if n == 0 then return ngx.exit(502) end
            c.i = c.i % n + 1
            if not ngx.ctx.thales_tries then
                ngx.ctx.thales_tries = true
                if n > 1 then balancer.set_more_tries(n - 1) end
            end
            local ok, err = balancer.set_current_peer(c.peers[c.i][1], c.peers[c.i][2])
            if not ok then
                ngx.log(ngx.ERR, "thales: peer of ", name, ": ", err)
                return ngx.exit(502)
            end
        end
    }`;
}

/**
 * The agent-only location that replaces members: a body of {@link membersLine}s, each stored
 * as is; answers the number of lines stored, or 507 naming the upstream the dictionary had no
 * room for (nothing after it is stored; the agent NACKs).
 */
export function renderMembersLocation(): string {
  return `        location = /__thales/members {
            allow 127.0.0.1;
            deny all;
            client_max_body_size 16m;
            client_body_buffer_size 16m;
            content_by_lua_block {
                ngx.req.read_body()
                local body = ngx.req.get_body_data() or ""
                local n = 0
                for line in body:gmatch("[^\\n]+") do
                    local name, err = thales.store(line)
                    if err then
                        ngx.status = 507
                        ngx.say("no room for ", name, ": ", err)
                        return
                    end
                    if name then n = n + 1 end
                end
                ngx.say(n)
            }
        }`;
}

/** What the `{{balancer}}` placeholder becomes in a dynamic upstream block. */
export function renderBalancer(upstream: string): string {
  return [
    '    server 0.0.0.1; # never used: thales.balance picks a member',
    `    balancer_by_lua_block { thales.balance("${upstream}") }`,
  ].join('\n');
}
