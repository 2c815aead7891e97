#!/usr/bin/env bash
# Prepares a machine to run Thales from this checkout: system packages (ZooKeeper, nginx, protoc,
# ansible-core), npm dependencies and the compiled build. Idempotent and quick when nothing
# changed.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

need_pkgs=()
command -v java >/dev/null 2>&1 || need_pkgs+=(default-jre-headless)
[ -f "${THALES_ZOOKEEPER_JAR:-/usr/share/java/zookeeper.jar}" ] || need_pkgs+=(zookeeper)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_pkgs+=(nginx-light)
# The lb-agent balances upstreams from Lua so that membership changes need no reload.
[ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] || need_pkgs+=(libnginx-mod-http-lua)
# `npm test` compiles the protos with protoc for other languages (scripts/check-protos.sh).
command -v protoc >/dev/null 2>&1 || need_pkgs+=(protobuf-compiler)
command -v protoc-gen-go >/dev/null 2>&1 || need_pkgs+=(protoc-gen-go)
command -v protoc-gen-go-grpc >/dev/null 2>&1 || need_pkgs+=(protoc-gen-go-grpc)
# The chaos run (npm run chaos) cuts a replica's ZooKeeper link with an iptables rule.
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || need_pkgs+=(iptables)
# deploy/ansible's playbooks, which the upgrade test runs against a cluster on this machine.
command -v ansible-playbook >/dev/null 2>&1 || need_pkgs+=(ansible-core)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: ${need_pkgs[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null \
      || die "apt-get install ${need_pkgs[*]} failed"
  else
    die "missing: ${need_pkgs[*]}. Install them (Debian: sudo apt-get install ${need_pkgs[*]}), or set THALES_ZOOKEEPER_JAR to a ZooKeeper 3.8 jar, then run this again."
  fi
fi

# Debian starts an nginx on port 80 when it installs the package; Thales runs its own.
if command -v service >/dev/null 2>&1 && pgrep -x nginx >/dev/null 2>&1 && [ -f /run/nginx.pid ]; then
  service nginx stop >/dev/null 2>&1 || true
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

say "building"
npm run -s build
say "ready"
