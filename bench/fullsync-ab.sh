#!/usr/bin/env bash
# bench/fullsync-ab.sh: one full IMAP sync of bench/all.sh's corpus by a
# given letterbox binary, into a fresh store, against the Dovecot that a
# `KEEP=1 ROWS=full bench/all.sh` run keeps running; prints wall time,
# peak RSS and user+system CPU. For A/B comparisons of builds:
#
#   KEEP=1 ROWS=full RUNS=1 OUT=/tmp/k bash bench/all.sh &   # wait for "KEEP=1"
#   go build -o /tmp/a . && git stash && go build -o /tmp/b . && git stash pop
#   for i in 1 2 3; do bench/fullsync-ab.sh /tmp/k /tmp/a A; bench/fullsync-ab.sh /tmp/k /tmp/b B; done
#
# Arguments: KEPT (the OUT of the kept run), BIN, LABEL, then any
# VAR=VALUE for the sync's environment (GOMEMLIMIT=32MiB, say). Each run
# leaves its store under KEPT/work/ab.*: deleting many files slows file
# creation on this machine's filesystem for minutes (bench/lib/fs.sh), so
# delete them after the comparison, not between runs.
set -euo pipefail
kept=$1 bin=$2 label=$3
shift 3
d=$(mktemp -d "$kept/work/ab.XXXX")
mkdir -p "$d/data"
cp "$kept/work/full-lb.1/config.toml" "$d/"
r=$(env "$@" /usr/bin/time -f "%e s %M KB cpu %U+%S" "$bin" --config "$d/config.toml" --data "$d/data" sync bench 2>&1 >/dev/null | tail -1)
echo "$label $r load $(cut -d' ' -f1 /proc/loadavg)"
