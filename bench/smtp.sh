#!/usr/bin/env bash
# bench/smtp.sh: the SMTP delivery figure of bench/server.sh on its own,
# quicker to repeat: smtp-source, 20 sessions x 4,000 messages of 10 KB,
# into `letterbox serve --dev` (durable local delivery to one user), RUNS
# times on one fresh store, then the same into smtp-sink (no delivery: the
# ceiling). Prints msg/s per run and the ratio of the median to the
# ceiling (target: at least 25%).
#
# Needs (Debian): postfix (smtp-source, smtp-sink; its daemon is not
# started), python3, go. Tunables: RUNS (5), M (4000).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
M=${M:-4000}
OUT=${OUT:-$PWD/bench/out/smtp}
# The previous run's store is deleted at the end, not here: on an ext4
# without a journal (this VM's), creating files is slow for up to five
# minutes after many files of the same block group were deleted
# (ext4's recently_deleted() scan), and every delivery creates one.
mkdir -p "$OUT"
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
. bench/lib/fs.sh
. bench/lib/store.sh
go build -o "$OUT/letterbox" .
DATA=$(mktemp -d "$OUT/data.XXXXXX")
echo pw | "$OUT/letterbox" serve user add --data "$DATA" bob@example.test --password-stdin
PORT=$(freeport)
"$OUT/letterbox" serve --dev --data "$DATA" --smtp-addr 127.0.0.1:$PORT --submission-addr= --smtps-addr= \
	--imap-addr= --imaps-addr= --pop3-addr= --pop3s-addr= >"$OUT/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
CREATE=$(settle "$OUT")
sleep 1.5
rate() { # port
	local s e
	s=$(date +%s.%N)
	/usr/sbin/smtp-source -s 20 -m "$M" -l 10240 -f a@load.test -t bob@example.test "127.0.0.1:$1" >/dev/null 2>&1
	e=$(date +%s.%N)
	python3 -c "print(round($M/($e-$s)))"
}
# Each run starts with the deferred full-text queue empty (see
# bench/lib/store.sh); the time it took to empty is printed.
ours=() text=()
for r in $(seq "$RUNS"); do
	ours+=("$(rate $PORT)")
	text+=("$(text_backlog "$DATA/mail/bob@example.test/index.db")")
done
kill $PID; wait $PID 2>/dev/null || true
SINK=$(freeport)
/usr/sbin/smtp-sink -u "$(id -un | sed 's/^root$/nobody/')" -c 127.0.0.1:$SINK 1000 >/dev/null 2>&1 &
SPID=$!
sleep 0.5
sink=$(rate $SINK)
kill $SPID 2>/dev/null || true
med=$(printf '%s\n' "${ours[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "letterbox: ${ours[*]} msg/s (median $med); smtp-sink: $sink msg/s; ratio $(python3 -c "print(f'{$med/$sink:.0%}')") (target >= 25%); full-text index caught up ${text[*]} s after each run; file create ${CREATE} ms (about 0.02 when the filesystem is settled)"
