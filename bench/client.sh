#!/usr/bin/env bash
# bench/client.sh: the letterbox client beside mbsync and fetchmail, on the
# same 10,000 generated messages in one private Dovecot on loopback:
#   1. full initial IMAP sync (headers and bodies): letterbox sync vs
#      mbsync (Sync Pull, Maildir);
#   2. message list usable: when all 10,000 headers are in the store
#      (letterbox's headers phase done), vs mbsync's full sync;
#   3. no-change re-sync: both run again on their synced state;
#   4. POP3 download of the 10,000 messages: letterbox (pop3 account,
#      keep) vs fetchmail (keep, to a null MDA);
#   5. peak RSS of letterbox during the IMAP sync.
# Results go to bench/out/client/results.txt.
#
# Needs (Debian): dovecot-imapd dovecot-pop3d isync fetchmail python3 time.
# Tunables: N (10000), SEED (1), RUNS (3), QRUNS (21: runs of row 3).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/dovecot.sh
ROOT=$PWD
OUT=${OUT:-$ROOT/bench/out/client}
N=${N:-10000}
SEED=${SEED:-1}
RUNS=${RUNS:-3}
QRUNS=${QRUNS:-21}
for tool in go dovecot mbsync fetchmail python3 /usr/bin/time openssl; do
	command -v "$tool" >/dev/null || { echo "client.sh: $tool is missing (apt-get install dovecot-imapd dovecot-pop3d isync fetchmail python3 time openssl)" >&2; exit 1; }
done
rm -rf "$OUT"
mkdir -p "$OUT"/{bin,corpus,dc,work}
RES=$OUT/results.txt
: > "$RES"
say() { echo "$*" | tee -a "$RES"; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wall() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }
# wallms: wall time in milliseconds (time's 10 ms steps are too coarse for
# a 30 ms run); python starts before the clock does.
wallms() { python3 -c 'import subprocess,sys,time
t=time.perf_counter(); subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL,check=True)
print(round((time.perf_counter()-t)*1000,1))' "$@"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== building"
go build -o "$OUT/bin/letterbox" .
go build -o "$OUT/bin/mailgen" ./bench/cmd/mailgen
LB=$OUT/bin/letterbox

echo "== corpus: $N messages"
"$OUT/bin/mailgen" -n "$N" -seed "$SEED" -o "$OUT/corpus/md"

USER_=ann@example.test
PASS=ann
DC=$OUT/dc
mkdir -p "$DC"/{run,state,home,mail/$USER_}
cp -r "$OUT/corpus/md/." "$DC/mail/$USER_/"
echo "$USER_:{PLAIN}$PASS" > "$DC/passwd"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$DC/key.pem" -out "$DC/cert.pem" 2>/dev/null
DC_IMAPS=$(freeport) DC_POP3S=$(freeport)
MUID=$(id -u) MGID=$(id -g)
if [ "$MUID" = 0 ]; then
	MUID=$(id -u nobody) MGID=$(id -g nobody)
	chown -R "$MUID:$MGID" "$DC/mail" "$DC/home"
	chmod 755 "$OUT" "$DC"
fi
dovecot_conf "$DC" "$DC/cert.pem" "$DC/key.pem" "$MUID" "$MGID" "$DC_IMAPS" "$DC_POP3S"
dovecot -c "$DC/dovecot.conf" -F &
DC_PID=$!
trap 'kill $DC_PID 2>/dev/null || true' EXIT
sleep 1
# Let Dovecot index the Maildir once, so neither client pays for it.
python3 - "$DC_IMAPS" "$USER_" "$PASS" <<'PY'
import imaplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=ctx); m.login(sys.argv[2], sys.argv[3])
print("dovecot INBOX:", m.select("INBOX")[1][0].decode()); m.logout()
PY

# --- mbsync ----------------------------------------------------------------
TLSKEY=TLSType
mbsync -v 2>&1 | grep -q "isync 1.4" && TLSKEY=SSLType
mbsync_setup() { # dir
	rm -rf "$1"; mkdir -p "$1/local"
	cat > "$1/rc" <<RC
IMAPAccount a
Host localhost
Port $DC_IMAPS
User $USER_
Pass $PASS
$TLSKEY IMAPS
CertificateFile $DC/cert.pem

IMAPStore far
Account a

MaildirStore near
Path $1/local/
Inbox $1/local/INBOX

Channel c
Far :far:
Near :near:
Patterns INBOX
Create Near
Sync Pull
SyncState *
RC
}

# --- letterbox -------------------------------------------------------------
lb_setup() { # dir mode
	rm -rf "$1"; mkdir -p "$1/data"
	local server="[account.imap]
host = \"127.0.0.1\"
port = $DC_IMAPS"
	[ "$2" = pop3 ] && server="[account.pop3]
host = \"127.0.0.1\"
port = $DC_POP3S"
	cat > "$1/config.toml" <<TOML
[[account]]
name = "bench"
email = "$USER_"
mode = "$2"
password_cmd = "echo $PASS"
tls_ca = "$DC/cert.pem"
$server
security = "tls"
[account.smtp]
host = "127.0.0.1"
port = 1
security = "tls"
TOML
	chmod 600 "$1/config.toml"
}
lb() { # dir args...
	local d=$1; shift
	"$LB" --config "$d/config.toml" --data "$d/data" "$@"
}

say "== IMAP initial sync of $N messages, headers and bodies (median of $RUNS)"
mb=() lbt=() lbh=() rss=()
for r in $(seq "$RUNS"); do
	mbsync_setup "$OUT/work/mbsync"
	mb+=("$(wall mbsync -q -c "$OUT/work/mbsync/rc" c)")
	lb_setup "$OUT/work/lb" imap
	/usr/bin/time -f "%e %M" -o "$OUT/work/lb.time" "$LB" --config "$OUT/work/lb/config.toml" --data "$OUT/work/lb/data" sync --json bench >"$OUT/work/lb.events" 2>"$OUT/work/lb.err" || { cat "$OUT/work/lb.err"; exit 1; }
	lbt+=("$(cut -d' ' -f1 "$OUT/work/lb.time")")
	rss+=("$(cut -d' ' -f2 "$OUT/work/lb.time")")
	lbh+=("$(python3 - "$OUT/work/lb.events" <<'PY'
import json, sys
t = None
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("type") == "event" and e["mailbox"] == "INBOX" and e["phase"] == "headers" and e["total"] and e["done"] >= e["total"]:
        t = e["t"]
print(t if t is not None else "nan")
PY
)")
done
M=$(printf '%s\n' "${mb[@]}" | median) L=$(printf '%s\n' "${lbt[@]}" | median) H=$(printf '%s\n' "${lbh[@]}" | median) R=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
say "  mbsync full sync:            ${M}s  (runs: ${mb[*]}; $(find "$OUT/work/mbsync/local/INBOX/cur" "$OUT/work/mbsync/local/INBOX/new" -type f | wc -l) messages)"
say "  letterbox full sync:         ${L}s  (runs: ${lbt[*]}; $(lb "$OUT/work/lb" account show bench --json | python3 -c 'import json,sys; print([f["total"] for f in json.load(sys.stdin)["folders"] if f["name"]=="INBOX"][0])') messages)"
say "  letterbox headers complete:  ${H}s  (runs: ${lbh[*]})"
say "  full sync ratio letterbox/mbsync: $(python3 -c "print(round($L/$M, 2))") (target <= 1.0)"
say "  list usable ratio headers/mbsync: $(python3 -c "print(round($H/$M, 2))") (target <= 1.25)"
say "  letterbox peak RSS: $((R / 1024)) MB (target < 150 MB)"

say "== no-change re-sync (median of $QRUNS, alternating, in ms)"
mb=() lbt=()
for r in $(seq "$QRUNS"); do
	mb+=("$(wallms mbsync -q -c "$OUT/work/mbsync/rc" c)")
	lbt+=("$(wallms "$LB" --config "$OUT/work/lb/config.toml" --data "$OUT/work/lb/data" sync bench)")
done
M=$(printf '%s\n' "${mb[@]}" | median) L=$(printf '%s\n' "${lbt[@]}" | median)
say "  mbsync:    ${M} ms  (runs: ${mb[*]})"
say "  letterbox: ${L} ms  (runs: ${lbt[*]})"
say "  ratio letterbox/mbsync: $(python3 -c "print(round($L/$M, 2))") (target <= 0.5)"

say "== POP3 download of $N messages, keep (median of $RUNS)"
fm=() lbt=()
for r in $(seq "$RUNS"); do
	d=$OUT/work/fetch; rm -rf "$d"; mkdir -p "$d/home"
	cat > "$d/rc" <<RC
set no bouncemail
poll 127.0.0.1 protocol pop3 port $DC_POP3S timeout 120
  user "$USER_" there with password "$PASS" is "$(id -un)" here
  options ssl sslcertck sslcertfile "$DC/cert.pem" sslcommonname "localhost" keep fetchall
  mda "cat >/dev/null"
RC
	chmod 600 "$d/rc"
	fm+=("$(HOME=$d/home wall fetchmail -f "$d/rc" --nodetach --silent)")
	lb_setup "$OUT/work/lbpop" pop3
	lbt+=("$(wall "$LB" --config "$OUT/work/lbpop/config.toml" --data "$OUT/work/lbpop/data" sync bench)")
done
F=$(printf '%s\n' "${fm[@]}" | median) L=$(printf '%s\n' "${lbt[@]}" | median)
say "  fetchmail: ${F}s  (runs: ${fm[*]})"
say "  letterbox: ${L}s  (runs: ${lbt[*]})"
say "  ratio letterbox/fetchmail: $(python3 -c "print(round($L/$F, 2))") (target <= 1.0)"

say "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(go version | cut -d' ' -f3); dovecot $(dovecot --version | cut -d' ' -f1); $(mbsync -v 2>&1 | head -1); $(fetchmail -V 2>/dev/null | head -1 | cut -d' ' -f1-5)"
