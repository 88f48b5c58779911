#!/usr/bin/env bash
# bench/smtpcpu.sh BINARY [M]: one SMTP delivery run of a given letterbox
# binary, with where the CPU went: a fresh store, `serve --dev` with only
# the MX port, 500 messages of warm-up, then M (10,000) timed with
# smtp-source -s 20 -l 10240 (as the smtp row of bench/all.sh). Prints the
# rate, the server's CPU per message (user+system, /proc/PID/stat),
# smtp-source's, and the share of the machine left idle (idle + iowait in
# /proc/stat). For A/B comparisons of two builds: alternate them, several
# pairs, under `flock /tmp/bench.lock`; one run says little on this VM.
#
# EXTRA (more serve flags, e.g. "--cpuprofile FILE"), OUT (the stores
# are left there, listed in OUT/todelete: deleting many files slows file
# creation on this VM for minutes, see bench/lib/fs.sh).
# Needs (Debian): postfix (smtp-source), python3, time.
set -euo pipefail
BIN=$(realpath "$1")
M=${2:-10000}
cd "$(dirname "$0")/.."
. bench/lib/fs.sh
OUT=${OUT:-$PWD/bench/out/smtpcpu}
mkdir -p "$OUT"
D=$(mktemp -d "$OUT/data.XXXXXX")
echo "$D" >> "$OUT/todelete"
echo "file create $(create_cost "$OUT") ms"
echo pw | "$BIN" serve user add --data "$D" bob@example.test --password-stdin >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
# shellcheck disable=SC2086
"$BIN" serve --dev --data "$D" --smtp-addr 127.0.0.1:$PORT --submission-addr= --smtps-addr= \
	--imap-addr= --imaps-addr= --pop3-addr= --pop3s-addr= ${EXTRA:-} >"$OUT/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
/usr/sbin/smtp-source -s 20 -m 500 -l 10240 -f a@load.test -t bob@example.test 127.0.0.1:$PORT
cpu() { awk '{print $14+$15}' /proc/$PID/stat; }
idle() { awk '/^cpu /{print $5+$6, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
c0=$(cpu); read -r i0 t0 < <(idle); s=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$OUT/source.time" /usr/sbin/smtp-source -s 20 -m "$M" -l 10240 -f a@load.test -t bob@example.test 127.0.0.1:$PORT
e=$(date +%s.%N); c1=$(cpu); read -r i1 t1 < <(idle)
python3 -c "
M=$M; wall=$e-$s; hz=$(getconf CLK_TCK)
src=sum(map(float, open('$OUT/source.time').read().split()))
print(f'rate {M/wall:.0f} msg/s, wall {wall:.2f} s, server {($c1-$c0)/hz/M*1000:.3f} ms/msg ({($c1-$c0)/hz/wall:.2f} cores), smtp-source {src/M*1000:.3f} ms/msg, idle {($i1-$i0)/($t1-$t0):.0%}')"
