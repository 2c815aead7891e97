#!/usr/bin/env bash
# Compiles every .proto under proto/ with the system's protoc (Debian's protobuf-compiler) for
# other languages than ours — C++, Java, Python, and Go with its gRPC stubs — into a temporary
# directory, in one invocation (so names clashing across files of one package are caught too).
# Any error or warning fails: grpc-js' loader is lenient, other languages' tools are not.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf '[check-protos] error: %s\n' "$*" >&2; exit 1; }

for tool in protoc protoc-gen-go protoc-gen-go-grpc; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: run scripts/setup.sh (Debian: apt-get install protobuf-compiler protoc-gen-go protoc-gen-go-grpc)"
done

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/cpp" "$out/java" "$out/python" "$out/go"
mapfile -t files < <(find proto -name '*.proto' | sort)
[ ${#files[@]} -gt 0 ] || die "no .proto file under proto/"

status=0
protoc -I proto --fatal_warnings \
  --cpp_out="$out/cpp" --java_out="$out/java" --python_out="$out/python" \
  --go_out="$out/go" --go-grpc_out="$out/go" \
  "${files[@]}" 2>"$out/stderr" || status=$?
if [ "$status" -ne 0 ] || [ -s "$out/stderr" ]; then
  cat "$out/stderr" >&2
  die "protoc refused the protos (exit $status)"
fi
printf '[check-protos] %d files compile cleanly for C++, Java, Python and Go (%s)\n' \
  "${#files[@]}" "$(protoc --version)"
