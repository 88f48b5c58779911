#!/usr/bin/env bash
# bench/run.sh: letterbox's store benchmarks beside notmuch, on generated mail.
#
# It builds letterbox and two helpers (bench/cmd/mailgen, bench/cmd/probe),
# generates the corpora, then measures, letterbox and notmuch side by side:
#   1. importing and indexing N_SMALL messages vs `notmuch new` (hyperfine,
#      RUNS runs each, page cache dropped before each run when allowed);
#   2. opening the N_BIG store and printing the first page, and later pages;
#   3. one-word searches, first 50 results, vs `notmuch search --limit=50`;
#   4. peak RSS of each command, and of one process doing 2 and 3 (probe).
# The results go to bench/out/results/ and the table to
# bench/out/results/summary.txt (also printed). Everything stays on the local
# disk; nothing touches the network.
#
# The corpora, the N_BIG letterbox store and the N_BIG notmuch database are
# built once and reused (delete bench/out/ to rebuild); their build times are
# kept in bench/out/results/build-*.txt.
#
# Needs: go, notmuch, hyperfine, jq, GNU time (/usr/bin/time). Run from
# anywhere: bench/run.sh. Tunables (environment): N_SMALL (10000), N_BIG
# (100000), SEED (1), RUNS (3, import runs), LAT_RUNS (20, latency runs),
# WORDS (the one-word queries), GOBENCH=1 to also run `go test -bench`,
# OUT (bench/out) and REV (the revision to report; git's HEAD by default).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/bench/out}
N_SMALL=${N_SMALL:-10000}
N_BIG=${N_BIG:-100000}
SEED=${SEED:-1}
RUNS=${RUNS:-3}
LAT_RUNS=${LAT_RUNS:-20}
WORDS=${WORDS:-meeting budget telescope narwhal solstice}
BIN=$OUT/bin
RES=$OUT/results
CORPUS=$OUT/corpus
MD_SMALL=$CORPUS/md$N_SMALL
MD_BIG=$CORPUS/md$N_BIG
STORE_BIG=$OUT/store$N_BIG
NM_BIG=$OUT/nm$N_BIG

for tool in go notmuch hyperfine jq /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (apt-get install notmuch hyperfine jq time)" >&2; exit 1; }
done
mkdir -p "$BIN" "$RES" "$CORPUS"

# A sandbox for notmuch: no user config, no hooks, no profile.
export XDG_CONFIG_HOME=$OUT/xdg/config XDG_DATA_HOME=$OUT/xdg/data
unset NOTMUCH_PROFILE MAILDIR
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$OUT/nm-hooks"

# DROP empties the page cache when we may (root, not in a read-only /proc),
# so both tools start cold; otherwise both start warm. Either way, equal.
if sh -c 'sync && echo 3 > /proc/sys/vm/drop_caches' 2>/dev/null; then
	DROP='sync && echo 3 > /proc/sys/vm/drop_caches'
	CACHE="cold (page cache dropped before each run)"
else
	DROP='sync'
	CACHE="warm (cannot drop the page cache here)"
fi

# nmconfig FILE DBDIR MAILROOT writes a notmuch config keeping the database
# outside the Maildir, so letterbox and notmuch read the very same tree.
nmconfig() {
	cat >"$1" <<EOF
[database]
path=$2
mail_root=$3
hook_dir=$OUT/nm-hooks
[new]
tags=unread;inbox
ignore=
[search]
exclude_tags=
[maildir]
synchronize_flags=true
EOF
}

log() { printf '\n== %s\n' "$*" >&2; }

log "machine"
{
	echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "cpu:      $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "memory:   $(free -m | awk '/^Mem:/ {print $2 " MB"}')"
	echo "kernel:   $(uname -r)"
	echo "fs:       $(df -T "$OUT" | awk 'NR==2 {print $2 " on " $1}')"
	echo "go:       $(go version)"
	echo "notmuch:  $(notmuch --version)"
	echo "hyperfine: $(hyperfine --version)"
	echo "letterbox: ${REV:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (dirty tree)')}"
	echo "cache:    $CACHE"
} | tee "$RES/machine.txt" >&2

log "build"
go build -o "$BIN/letterbox" .
go build -o "$BIN/mailgen" ./bench/cmd/mailgen
go build -o "$BIN/probe" ./bench/cmd/probe
LB=$BIN/letterbox

# corpus N DIR generates the corpus once; DIR.done marks it complete.
corpus() {
	if [ ! -e "$2.done" ]; then
		log "generate $1 messages into $2"
		rm -rf "$2"
		"$BIN/mailgen" -n "$1" -seed "$SEED" -o "$2"
		touch "$2.done"
	fi
}
corpus "$N_SMALL" "$MD_SMALL"
corpus "$N_BIG" "$MD_BIG"
echo "corpus $N_SMALL: $(du -sh "$MD_SMALL" | cut -f1), corpus $N_BIG: $(du -sh "$MD_BIG" | cut -f1)" | tee "$RES/corpus.txt" >&2

# 1. Import and index N_SMALL messages, letterbox beside notmuch new.
log "1. import $N_SMALL: letterbox store import vs notmuch new ($RUNS runs each)"
IMP=$OUT/import
mkdir -p "$IMP"
nmconfig "$IMP/nm.config" "$IMP/nm" "$MD_SMALL"
hyperfine --runs "$RUNS" --style basic \
	--export-json "$RES/import.json" --export-markdown "$RES/import.md" \
	--prepare "rm -rf '$IMP/lb' && $DROP" \
	--prepare "rm -rf '$IMP/nm' && mkdir -p '$IMP/nm' && $DROP" \
	-n "letterbox store import ($N_SMALL)" "'$LB' store import --quiet --store '$IMP/lb' '$MD_SMALL'" \
	-n "notmuch new ($N_SMALL)" "NOTMUCH_CONFIG='$IMP/nm.config' notmuch new --quiet"
# Peak memory of one more run of each (warm).
rm -rf "$IMP/lb" "$IMP/nm" && mkdir -p "$IMP/nm"
/usr/bin/time -f %M -o "$RES/import-rss-letterbox.txt" "$LB" store import --quiet --store "$IMP/lb" "$MD_SMALL"
NOTMUCH_CONFIG=$IMP/nm.config /usr/bin/time -f %M -o "$RES/import-rss-notmuch.txt" notmuch new --quiet
du -sh "$IMP/lb/index.db" "$IMP/nm" | tee "$RES/import-index-size.txt" >&2
rm -rf "$IMP/lb" "$IMP/nm"

# The N_BIG store and notmuch database, built once, timed.
nmconfig "$OUT/nm$N_BIG.config" "$NM_BIG" "$MD_BIG"
export NOTMUCH_CONFIG=$OUT/nm$N_BIG.config
if [ ! -e "$STORE_BIG.done" ]; then
	log "build the $N_BIG-message letterbox store (once)"
	rm -rf "$STORE_BIG"
	eval "$DROP"
	/usr/bin/time -f '%e s wall, %U s user, %S s sys, %M KB max RSS' -o "$RES/build-letterbox.txt" \
		"$LB" store import --quiet --store "$STORE_BIG" "$MD_BIG"
	touch "$STORE_BIG.done"
fi
if [ ! -e "$NM_BIG.done" ]; then
	log "build the $N_BIG-message notmuch database (once)"
	rm -rf "$NM_BIG" && mkdir -p "$NM_BIG"
	eval "$DROP"
	/usr/bin/time -f '%e s wall, %U s user, %S s sys, %M KB max RSS' -o "$RES/build-notmuch.txt" \
		notmuch new --quiet
	touch "$NM_BIG.done"
fi

# 2. Open + first page, later pages (warm page cache: the interface's case).
LAST=$((N_BIG - 50))
MID=$((N_BIG / 2))
log "2. open + page of 50 by date, $N_BIG messages"
hyperfine --warmup 3 --runs "$LAT_RUNS" --style basic -N \
	--export-json "$RES/pages.json" --export-markdown "$RES/pages.md" \
	-n "letterbox ls (first page)" "$LB store ls --store $STORE_BIG --limit 50" \
	-n "letterbox ls --offset $MID" "$LB store ls --store $STORE_BIG --limit 50 --offset $MID" \
	-n "letterbox ls --offset $LAST (last page)" "$LB store ls --store $STORE_BIG --limit 50 --offset $LAST" \
	-n "notmuch search (first 50, newest first)" "notmuch search --limit=50 --sort=newest-first *" \
	-n "notmuch search --offset=$LAST" "notmuch search --limit=50 --offset=$LAST --sort=newest-first --output=messages *"

# 2b. The same from a cold page cache (after a reboot, say), when we can drop it.
if [ "$DROP" != sync ]; then
	log "2b. cold page cache: open + page, one search"
	hyperfine --runs 5 --style basic -N --prepare "sh -c '$DROP'" \
		--export-json "$RES/cold.json" --export-markdown "$RES/cold.md" \
		-n "letterbox ls (first page), cold" "$LB store ls --store $STORE_BIG --limit 50" \
		-n "letterbox ls --offset $LAST, cold" "$LB store ls --store $STORE_BIG --limit 50 --offset $LAST" \
		-n "letterbox search narwhal, cold" "$LB store search --store $STORE_BIG --limit 50 narwhal" \
		-n "notmuch search narwhal, cold" "notmuch search --limit=50 --sort=newest-first narwhal"
fi

# 3. One-word searches, first 50 results, newest first.
log "3. one-word search, first 50, $N_BIG messages"
: >"$RES/hits.txt"
cmds=()
for w in $WORDS; do
	echo "$w $(notmuch count "$w") $(notmuch count --output=threads "$w")" >>"$RES/hits.txt"
	cmds+=(-n "letterbox search $w" "$LB store search --store $STORE_BIG --limit 50 $w")
	cmds+=(-n "notmuch search $w" "notmuch search --limit=50 --sort=newest-first $w")
	cmds+=(-n "notmuch search --output=messages $w" "notmuch search --limit=50 --sort=newest-first --output=messages $w")
done
hyperfine --warmup 2 --runs "$LAT_RUNS" --style basic -N \
	--export-json "$RES/search.json" --export-markdown "$RES/search.md" "${cmds[@]}"

# 4. Peak RSS: each command once, then one process doing it all (probe).
log "4. peak RSS"
rss() { /usr/bin/time -f %M -o "$RES/rss.tmp" "$@" >/dev/null && printf '%s\t%s\n' "$(($(cat "$RES/rss.tmp") / 1024))" "$*"; }
{
	rss "$LB" store ls --store "$STORE_BIG" --limit 50
	rss "$LB" store ls --store "$STORE_BIG" --limit 50 --offset "$LAST"
	for w in $WORDS; do rss "$LB" store search --store "$STORE_BIG" --limit 50 "$w"; done
	for w in $WORDS; do rss notmuch search --limit=50 --sort=newest-first "$w"; done
} | sed "s|$OUT/||g" >"$RES/rss.txt"
rm -f "$RES/rss.tmp"
/usr/bin/time -f %M -o "$RES/probe-rss.txt" "$BIN/probe" -store "$STORE_BIG" -runs "$LAT_RUNS" -words "$(echo $WORDS | tr ' ' ,)" | tee "$RES/probe.txt" >&2

if [ "${GOBENCH:-0}" = 1 ]; then
	log "go test -bench on the $N_BIG-message store"
	LETTERBOX_BENCH_STORE=$STORE_BIG go test -run '^$' -bench . -benchtime 20x ./store | tee "$RES/gobench.txt" >&2
fi

# The table.
ms() { jq -r --arg n "$2" '.results[] | select(.command == $n) | "\(.median * 1000 | . * 100 | round / 100)"' "$1"; }
{
	cat "$RES/machine.txt"
	echo
	echo "1. import + index $N_SMALL messages (wall s; $RUNS runs; $CACHE)"
	jq -r '.results[] | "   \(.command): mean \(.mean * 100 | round / 100) s, min \(.min * 100 | round / 100), max \(.max * 100 | round / 100); runs \([.times[] | . * 100 | round / 100])"' "$RES/import.json"
	echo "   peak RSS: letterbox $(($(cat "$RES/import-rss-letterbox.txt") / 1024)) MB, notmuch $(($(cat "$RES/import-rss-notmuch.txt") / 1024)) MB"
	[ -e "$RES/build-letterbox.txt" ] && echo "   once, $N_BIG messages: letterbox $(cat "$RES/build-letterbox.txt")"
	[ -e "$RES/build-notmuch.txt" ] && echo "   once, $N_BIG messages: notmuch   $(cat "$RES/build-notmuch.txt")"
	echo
	echo "2. $N_BIG messages, whole command (process start + open + page), median ms of $LAT_RUNS"
	jq -r '.results[] | "   \(.command): \(.median * 1000 * 100 | round / 100)"' "$RES/pages.json"
	if [ -e "$RES/cold.json" ]; then
		echo "   cold page cache, median ms of 5:"
		jq -r '.results[] | "   \(.command): \(.median * 1000 * 100 | round / 100)"' "$RES/cold.json"
	fi
	echo
	echo "3. one-word search, first 50 newest, whole command, median ms of $LAT_RUNS"
	echo "   (hits: letterbox messages / notmuch messages / notmuch threads)"
	printf '%-44s %10s %11s %11s\n' "   word (hits)" letterbox "nm threads" "nm messages"
	for w in $WORDS; do
		printf '%-44s %10s %11s %11s\n' "   $w ($(awk -v k="hits_$w" '$1 == k {print $2}' "$RES/probe.txt") / $(grep "^$w " "$RES/hits.txt" | cut -d' ' -f2- | sed 's| | / |'))" \
			"$(ms "$RES/search.json" "letterbox search $w")" "$(ms "$RES/search.json" "notmuch search $w")" \
			"$(ms "$RES/search.json" "notmuch search --output=messages $w")"
	done
	echo "   median over all words and runs: letterbox $(jq '[.results[] | select(.command | startswith("letterbox")) | .times[]] | sort | .[length/2|floor] * 1000 * 100 | round / 100' "$RES/search.json") ms, notmuch $(jq '[.results[] | select(.command | test("^notmuch search [a-z]+$")) | .times[]] | sort | .[length/2|floor] * 1000 * 100 | round / 100' "$RES/search.json") ms"
	echo
	echo "in-process (bench/cmd/probe: Open+List+Close, pages, searches; median of $LAT_RUNS)"
	sed 's/^/   /' "$RES/probe.txt"
	echo
	echo "4. peak RSS (MB) per command"
	sed 's/^/   /' "$RES/rss.txt"
	echo "   probe process (all of 2 and 3): $(($(cat "$RES/probe-rss.txt") / 1024)) MB"
	if [ -e "$RES/gobench.txt" ]; then
		echo
		echo "go test -bench ($N_BIG-message store; BenchmarkImport: 1000 messages per op, new store)"
		grep '^Benchmark' "$RES/gobench.txt" | sed 's/^/   /'
	fi
} | tee "$RES/summary.txt"
