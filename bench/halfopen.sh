#!/usr/bin/env bash
# bench/halfopen.sh [REV]: how many half-open connections letterbox serve
# holds while a normal IMAP login still succeeds in under a second
# (issue 12, item 2). The server runs in dev mode with only its IMAPS
# listener, the per-IP caps applied to loopback, and an open-file limit of
# SERVER_NOFILE (4096), so that the file-descriptor limit is reached
# within the client's own. bench/cmd/halfopen then opens half-open
# connections (TCP only, never a TLS handshake) from many loopback
# addresses, 40 per address, up to each of STEPS, and times a login from
# 127.0.0.1 after each step. With REV (a commit), that revision's server
# is measured instead, with no [limits] keys in its config.
# Results go to bench/out/halfopen/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/bench/out/halfopen}
SERVER_NOFILE=${SERVER_NOFILE:-4096}
STEPS=${STEPS:-1000,2000,3000,3500,4000,5000,8000,12000,16000}
REV=${1:-}
for tool in go python3; do
	command -v "$tool" >/dev/null || { echo "halfopen.sh: $tool is missing" >&2; exit 1; }
done
rm -rf "$OUT"
mkdir -p "$OUT/bin"
LIMITS='[limits]
exempt_loopback = false'
if [ -n "$REV" ]; then
	git worktree add --detach "$OUT/src" "$REV" >/dev/null
	(cd "$OUT/src" && go build -o "$OUT/bin/letterbox" .)
	git worktree remove --force "$OUT/src"
	LIMITS=
else
	go build -o "$OUT/bin/letterbox" .
fi
go build -o "$OUT/bin/halfopen" ./bench/cmd/halfopen

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
PORT=$(freeport)
cat >"$OUT/server.toml" <<TOML
dev = true
[listen]
smtp = "off"
submission = "off"
smtps = "off"
imap = "off"
imaps = "127.0.0.1:$PORT"
pop3 = "off"
pop3s = "off"
$LIMITS
TOML
(ulimit -n "$SERVER_NOFILE" && exec "$OUT/bin/letterbox" --config "$OUT/server.toml" --data "$OUT/data" serve) \
	>"$OUT/serve.out" 2>"$OUT/serve.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 300); do [ -s "$OUT/serve.out" ] && break; sleep 0.2; done
[ -s "$OUT/serve.out" ] || { echo "halfopen.sh: the server did not start" >&2; cat "$OUT/serve.log" >&2; exit 1; }

{
	echo "== letterbox ${REV:-$(git rev-parse --short HEAD)} serve, IMAPS only, ulimit -n $SERVER_NOFILE"
	grep -o 'max_connections=[0-9]*' "$OUT/serve.log" | head -1 || true
	"$OUT/bin/halfopen" -addr "127.0.0.1:$PORT" -steps "$STEPS"
	echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$PID/status)"
	echo "server log: $(grep -c 'connection limit reached\|connections refused' "$OUT/serve.log" || true) limit records," \
		"$(grep -c 'too many open files' "$OUT/serve.log" || true) 'too many open files' records"
	echo "machine: $(nproc) cores; $(go version | cut -d' ' -f3)"
} | tee "$OUT/results.txt"
