#!/usr/bin/env bash
# bench/server.sh: letterbox serve beside a private Dovecot, on the same
# 10,000 generated messages, all on loopback:
#   1. mbsync initial sync of the INBOX over IMAPS (wall time);
#   2. fetchmail download of every message over POP3S, keeping them;
#   3. smtp-source, 20 sessions x 500 messages of 10 KB, into our MX port
#      with durable local delivery, beside smtp-sink (no delivery: the
#      ceiling), messages per second;
#   4. bench/cmd/idleload: 200 IMAP sessions in IDLE plus 20 SMTP
#      submitters for DURATION; errors, exactly-once delivery, every IDLE
#      session told, and the server's peak RSS.
# Results go to bench/out/server/ and a table is printed at the end.
#
# Needs (Debian): dovecot-imapd dovecot-pop3d isync fetchmail postfix
# (smtp-source, smtp-sink; its daemon is not started), python3, go.
# Runs as root or as a user; Dovecot runs in the foreground with its own
# config under bench/out/server/, nothing system-wide is touched.
# Tunables: N (10000), SEED (1), DURATION (60s), RUNS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/dovecot.sh
. bench/lib/fs.sh
. bench/lib/store.sh
ROOT=$PWD
OUT=${OUT:-$ROOT/bench/out/server}
N=${N:-10000}
SEED=${SEED:-1}
DURATION=${DURATION:-60s}
RUNS=${RUNS:-3}
for tool in go dovecot mbsync fetchmail /usr/sbin/smtp-source /usr/sbin/smtp-sink python3 /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "server.sh: $tool is missing (apt-get install dovecot-imapd dovecot-pop3d isync fetchmail postfix python3 time)" >&2; exit 1; }
done
# The previous run's files (about 100,000) are moved aside now and
# deleted when this run ends: deleting them here would make every file
# creation in their block groups slow for the next five minutes on this
# VM's journal-less ext4 (ext4's recently_deleted() scan), and row 3
# creates one file per message.
OLD=
if [ -e "$OUT" ]; then
	OLD=$OUT.old.$$
	mv "$OUT" "$OLD"
	trap 'rm -rf "$OLD"' EXIT
fi
mkdir -p "$OUT"/{bin,corpus,lb,dc,work}
RES=$OUT/results.txt
: > "$RES"
say() { echo "$*" | tee -a "$RES"; }

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

echo "== building"
go build -o "$OUT/bin/letterbox" .
go build -o "$OUT/bin/mailgen" ./bench/cmd/mailgen
go build -o "$OUT/bin/idleload" ./bench/cmd/idleload
LB=$OUT/bin/letterbox

echo "== corpus: $N messages"
"$OUT/bin/mailgen" -n "$N" -seed "$SEED" -o "$OUT/corpus/md"

USER_=bob@example.test
PASS=bob

# --- letterbox serve ------------------------------------------------------
LBDATA=$OUT/lb/data
echo "$PASS" | "$LB" serve user add --data "$LBDATA" "$USER_" --password-stdin
"$LB" store import --quiet --store "$LBDATA/mail/$USER_" "$OUT/corpus/md"
LB_SMTP=$(freeport) LB_IMAPS=$(freeport) LB_POP3S=$(freeport) LB_IMAP=$(freeport)
"$LB" serve --dev --data "$LBDATA" --smtp-addr 127.0.0.1:$LB_SMTP --submission-addr= --smtps-addr= \
	--imap-addr 127.0.0.1:$LB_IMAP --imaps-addr 127.0.0.1:$LB_IMAPS --pop3-addr= --pop3s-addr 127.0.0.1:$LB_POP3S \
	>"$OUT/lb/serve.out" 2>"$OUT/lb/serve.log" &
LB_PID=$!
trap 'kill $LB_PID ${DC_PID:-} 2>/dev/null || true; [ -z "$OLD" ] || rm -rf "$OLD"' EXIT
LB_CERT=$LBDATA/tls/cert.pem
for i in $(seq 50); do [ -s "$OUT/lb/serve.out" ] && break; sleep 0.2; done

# --- Dovecot --------------------------------------------------------------
DC=$OUT/dc
mkdir -p "$DC"/{run,state,home,mail/$USER_}
cp -r "$OUT/corpus/md/." "$DC/mail/$USER_/"
echo "$USER_:{PLAIN}$PASS" > "$DC/passwd"
DC_IMAPS=$(freeport) DC_POP3S=$(freeport)
# Dovecot refuses to run mail processes as root: as root, give the mail
# to nobody.
MUID=$(id -u) MGID=$(id -g)
if [ "$MUID" = 0 ]; then
	MUID=$(id -u nobody) MGID=$(id -g nobody)
	chown -R "$MUID:$MGID" "$DC/mail" "$DC/home"
fi
dovecot_conf "$DC" "$LB_CERT" "$LBDATA/tls/key.pem" "$MUID" "$MGID" "$DC_IMAPS" "$DC_POP3S" "mail_fsync = always"
dovecot -c "$DC/dovecot.conf" -F &
DC_PID=$!
sleep 1
# Let Dovecot index the Maildir once, as our import did.
python3 - "$DC_IMAPS" "$USER_" "$PASS" <<'PY'
import imaplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=ctx); m.login(sys.argv[2], sys.argv[3])
print("dovecot INBOX:", m.select("INBOX")[1][0].decode()); m.logout()
PY

wall() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# --- 1. mbsync ------------------------------------------------------------
# isync 1.4 spells TLSType as SSLType.
TLSKEY=TLSType
mbsync -v 2>&1 | grep -q "isync 1.4" && TLSKEY=SSLType
mbsync_run() { # name port
	# A fresh directory per run, none deleted here: on an ext4 without a
	# journal (this VM's), deleting 10,000 files makes file creation in
	# their block group slow for up to five minutes (recently_deleted()),
	# which would tax row 3's deliveries.
	local d
	d=$(mktemp -d "$OUT/work/mbsync-$1.XXXX")
	mkdir -p "$d/local"
	cat > "$d/rc" <<RC
IMAPAccount a
Host localhost
Port $2
User $USER_
Pass $PASS
$TLSKEY IMAPS
CertificateFile $LB_CERT

IMAPStore far
Account a

MaildirStore near
Path $d/local/
Inbox $d/local/INBOX

Channel c
Far :far:
Near :near:
Patterns INBOX
Create Near
Sync Pull
SyncState *
RC
	wall mbsync -q -c "$d/rc" c
	find "$d/local/INBOX/cur" "$d/local/INBOX/new" -type f | wc -l >"$OUT/work/mbsync-$1.count"
}
say "== mbsync initial sync of $N messages over IMAPS (median of $RUNS)"
# The corpus, the import and Dovecot's copy left ~300 MB to write back;
# flushed now, it does not compete with the first timed sync.
sync
say "  file create beside the clients' Maildirs: $(settle "$OUT/work") ms (waited until under 0.03; see bench/lib/fs.sh)"
for name in letterbox dovecot; do
	port=$LB_IMAPS; [ $name = dovecot ] && port=$DC_IMAPS
	ts=()
	for r in $(seq "$RUNS"); do
		ts+=("$(mbsync_run $name $port)")
	done
	m=$(printf '%s\n' "${ts[@]}" | median)
	say "  $name: ${m}s  (runs: ${ts[*]}; messages synced: $(cat "$OUT/work/mbsync-$name.count"))"
	eval "MB_$name=$m"
done
say "  ratio letterbox/dovecot: $(python3 -c "print(round($MB_letterbox/$MB_dovecot, 2))") (target <= 1.5)"

# --- 2. fetchmail ---------------------------------------------------------
fetch_run() { # name port
	local d=$OUT/work/fetch-$1
	rm -rf "$d"; mkdir -p "$d/home"
	cat > "$d/rc" <<RC
set no bouncemail
poll 127.0.0.1 protocol pop3 port $2 timeout 120
  user "$USER_" there with password "$PASS" is "$(id -un)" here
  options ssl sslcertck sslcertfile "$LB_CERT" sslcommonname "localhost" keep fetchall
  mda "cat >/dev/null"
RC
	chmod 600 "$d/rc"
	HOME=$d/home wall fetchmail -f "$d/rc" --nodetach --silent
}
say "== fetchmail download of $N messages over POP3S, keep (median of $RUNS)"
for name in letterbox dovecot; do
	port=$LB_POP3S; [ $name = dovecot ] && port=$DC_POP3S
	ts=()
	for r in $(seq "$RUNS"); do ts+=("$(fetch_run $name $port)"); done
	m=$(printf '%s\n' "${ts[@]}" | median)
	say "  $name: ${m}s  (runs: ${ts[*]})"
	eval "FM_$name=$m"
done
say "  ratio letterbox/dovecot: $(python3 -c "print(round($FM_letterbox/$FM_dovecot, 2))") (target <= 1.5)"

# --- 3. smtp-source -------------------------------------------------------
say "== smtp-source: 20 sessions x 500 messages of 10 KB (median of $RUNS)"
sync
say "  file create beside the store: $(settle "$LBDATA") ms (waited until under 0.03; see bench/lib/fs.sh)"
SINK=$(freeport)
/usr/sbin/smtp-sink -u "$(id -un | sed 's/^root$/nobody/')" -c 127.0.0.1:$SINK 1000 >/dev/null 2>&1 &
SINK_PID=$!
sleep 0.5
src() { wall /usr/sbin/smtp-source -s 20 -m 10000 -l 10240 -f load@load.test -t "$USER_" "127.0.0.1:$1"; }
# After each of our runs, wait for the server's deferred full-text
# indexing to finish (and time it), so it never runs beside smtp-sink.
ours=() sink=() text=()
for r in $(seq "$RUNS"); do
	ours+=("$(src $LB_SMTP)")
	text+=("$(text_backlog "$LBDATA/mail/$USER_/index.db")")
	sink+=("$(src $SINK)")
done
kill $SINK_PID 2>/dev/null || true
o=$(printf '%s\n' "${ours[@]}" | median) s=$(printf '%s\n' "${sink[@]}" | median)
x=$(printf '%s\n' "${text[@]}" | median)
say "  letterbox (durable delivery): $(python3 -c "print(round(10000/$o))") msg/s  (runs: ${ours[*]} s)"
say "  smtp-sink (no delivery):      $(python3 -c "print(round(10000/$s))") msg/s  (runs: ${sink[*]} s)"
say "  letterbox/ceiling: $(python3 -c "print(f'{$s/$o:.0%}')") (target >= 25%)"
say "  full-text index caught up $x s after the last message (runs: ${text[*]} s; it waits for a 0.5 s pause);"
say "    counting that, $(python3 -c "print(round(10000/($o+$x)))") msg/s delivered and searchable"

# --- 4. IDLE load -----------------------------------------------------------
say "== 200 IMAP sessions in IDLE + 20 submitters for $DURATION"
"$OUT/bin/idleload" -imap 127.0.0.1:$LB_IMAP -smtp 127.0.0.1:$LB_SMTP -user "$USER_" -pass "$PASS" \
	-sessions 200 -submitters 20 -duration "$DURATION" -pid $LB_PID 2>&1 | tee -a "$RES" | sed 's/^/  /'
say "  server errors logged: $(grep -c 'level=ERROR' "$OUT/lb/serve.log" || true)"

say "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(go version | cut -d' ' -f3); $(dovecot --version | cut -d' ' -f1) dovecot; $(mbsync -v 2>&1 | head -1); $(fetchmail -V 2>/dev/null | head -1 | cut -d' ' -f1-5)"
