#!/usr/bin/env bash
# bench/all.sh: every row of issue 17, letterbox beside its peer, in ONE
# run, printed as ONE table (workload, letterbox, peer, ratio, target,
# result, machine load). Each row is timed RUNS times (medians) and each
# run is checked, so that a fast wrong answer fails:
#
#  client rows, against one private Dovecot holding 19,000 generated
#  messages in four folders (INBOX 10,000, Archive 4,000, Sent 3,000,
#  Lists 2,000; mailgen, seeded), over IMAPS and POP3S:
#   full      full IMAP sync, letterbox sync vs mbsync (Sync Pull), time
#             and peak RSS of each;
#   nochange  no-change re-sync of the four folders (QRUNS, alternating);
#   pop3      POP3 download of the INBOX, letterbox vs fetchmail (keep);
#   incr      incremental sync: before each run a python imaplib script
#             (bench/lib/imapchange.py) appends 100 new messages and
#             changes the flags of 500 across the four folders on the
#             server; then mbsync and letterbox each sync them;
#  server rows, letterbox serve beside the same Dovecot, 10,000 messages:
#   serve     mbsync full sync of the INBOX over IMAP with STARTTLS, from
#             letterbox serve vs from Dovecot;
#   smtp      smtp-source -s 20 -m 10000 -l 10240 into letterbox serve's
#             MX port (durable local delivery), into smtp-sink (no
#             delivery: the ceiling) and into a stock Postfix with its
#             durable queue, delivering to a Maildir (bench/lib/postfix.sh);
#   idle      bench/cmd/idleload: SESSIONS IMAP sessions in IDLE and
#             SUBMITTERS SMTP submitters for DURATION; 0 errors, every
#             message delivered once, every session told, server RSS.
#
# Checks (bench/lib/mailcheck.py): after each IMAP client run, the
# client's Maildir (mbsync's, letterbox's store) holds exactly the
# server's messages per folder by Message-ID, none twice, the same
# flags, bodies byte-identical (line ends aside); letterbox's index
# (`letterbox list --json`) agrees. POP3: the same without flags, and
# fetchmail's message count. SMTP: letterbox's INBOX grew by exactly the
# messages sent (IMAP STATUS), Postfix's Maildir too. A row passes only
# if its target holds AND every check of every run passed.
#
# Output: bench/out/all/ (results.txt: the log; table.md: the table).
# The previous output is moved aside and deleted when this run ends (see
# bench/lib/fs.sh on deleting files before a delivery benchmark).
#
# Needs (Debian): dovecot-imapd dovecot-pop3d isync fetchmail postfix
# python3 time openssl util-linux (script); root (Postfix's master, and
# Dovecot's mail as nobody). Nothing system-wide is changed: Dovecot and
# Postfix run from private configs under the output directory.
# Tunables: RUNS (3), QRUNS (21), SEED (1), ROWS (all: "full nochange
# pop3 incr serve smtp idle"; rows always run in that order), SMTP_M
# (10000), SESSIONS (500), SUBMITTERS (50), DURATION (60s), OUT, COMMIT
# (the label printed for the code measured; git's HEAD by default), KEEP
# (1: after the table, write OUT/keep.env, the servers' ports and the
# clients' directories, and keep Dovecot and letterbox serve running until
# the script is killed: for profiling one row by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/dovecot.sh
. bench/lib/fs.sh
. bench/lib/store.sh
. bench/lib/postfix.sh
ROOT=$PWD
OUT=${OUT:-$ROOT/bench/out/all}
RUNS=${RUNS:-3}
QRUNS=${QRUNS:-21}
SEED=${SEED:-1}
ROWS=" ${ROWS:-full nochange pop3 incr serve smtp idle} "
SMTP_M=${SMTP_M:-10000}
SESSIONS=${SESSIONS:-500}
SUBMITTERS=${SUBMITTERS:-50}
DURATION=${DURATION:-60s}
want() { [[ $ROWS == *" $1 "* ]]; }
for tool in go dovecot mbsync fetchmail postfix /usr/sbin/smtp-source /usr/sbin/smtp-sink python3 openssl script; do
	command -v "$tool" >/dev/null || { echo "all.sh: $tool is missing (apt-get install dovecot-imapd dovecot-pop3d isync fetchmail postfix python3 openssl util-linux)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "all.sh: run as root (Postfix's master and Dovecot's mail user need it)" >&2; exit 1; }
[ "$RUNS" -le 10 ] || { echo "all.sh: RUNS at most 10 (the corpus holds 1,000 new messages for the incremental row)" >&2; exit 1; }

OLD=
if [ -e "$OUT" ]; then
	OLD=$OUT.old.$$
	mv "$OUT" "$OLD"
fi
mkdir -p "$OUT"/{bin,corpus,dc,work,lbserve}
RES=$OUT/results.txt
TABLE=$OUT/table.tsv
: > "$RES"
: > "$TABLE"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -z "${PFDIR:-}" ] || postfix_stop "$PFDIR"
	[ -z "$OLD" ] || rm -rf "$OLD"
}
trap cleanup EXIT
say() { echo "$*" | tee -a "$RES"; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
load1() { cut -d' ' -f1 /proc/loadavg; }
calc() { python3 -c "print($1)"; }
measure() { python3 bench/lib/measure.py "$@"; }
check() { python3 bench/lib/mailcheck.py "$@"; }
# row WORKLOAD LETTERBOX PEER RATIO TARGET PASS(0/1) LOADS: one line of the table.
row() {
	local res=pass
	[ "$6" = 1 ] || res=FAIL
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$res" "$7" >> "$TABLE"
	say "  => $1: letterbox $2, peer $3, ratio $4 (target $5): $res"
}
# checked CMD...: runs a check, logs its line, and clears OK on failure.
checked() {
	local line
	if line=$("$@" 2>&1); then say "    check: $line"; else say "    check: $line"; OK=0; fi
}

echo "== building"
go build -o "$OUT/bin/letterbox" .
go build -o "$OUT/bin/mailgen" ./bench/cmd/mailgen
go build -o "$OUT/bin/idleload" ./bench/cmd/idleload
LB=$OUT/bin/letterbox
COMMIT=${COMMIT:-$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench/out' || echo '+changes')}
say "== $(date -u '+%F %T') UTC, commit $COMMIT, load $(cut -d' ' -f1-3 /proc/loadavg)"

# --- corpus ------------------------------------------------------------------
# 20,000 messages of mailgen seed SEED: the first 19,000 in four folders,
# the newest 1,000 the pool the incremental rounds append from.
FOLDERS=INBOX,Archive,Sent,Lists
echo "== corpus: 20,000 messages, seed $SEED"
"$OUT/bin/mailgen" -n 20000 -seed "$SEED" -o "$OUT/corpus/gen"
TREE=$OUT/corpus/tree
check split "$OUT/corpus/gen" "$TREE" Lists=0-1999 Sent=2000-4999 Archive=5000-8999 INBOX=9000-18999 new=19000-19999
NEWSPEC=INBOX:40:200,Archive:20:100,Sent:20:100,Lists:20:100

# --- Dovecot -------------------------------------------------------------------
# ann: the four folders (LAYOUT=fs: INBOX is the Maildir root); bob: the
# INBOX alone, the same messages letterbox serve gets.
DC=$OUT/dc
ANN=ann@example.test BOB=bob@example.test PASS=pw
mkdir -p "$DC"/{run,state,home} "$DC/mail/$ANN" "$DC/mail/$BOB"
cp -r "$TREE/INBOX/." "$DC/mail/$ANN/"
for f in Archive Sent Lists; do cp -r "$TREE/$f" "$DC/mail/$ANN/$f"; done
cp -r "$TREE/INBOX/." "$DC/mail/$BOB/"
printf '%s:{PLAIN}%s\n' "$ANN" "$PASS" "$BOB" "$PASS" > "$DC/passwd"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$DC/key.pem" -out "$DC/cert.pem" 2>/dev/null
DC_IMAPS=$(freeport) DC_POP3S=$(freeport) DC_IMAP=$(freeport)
MUID=$(id -u nobody) MGID=$(id -g nobody)
chown -R "$MUID:$MGID" "$DC/mail" "$DC/home"
chmod 755 "$OUT" "$DC"
# mail_fsync = always: the same durability as letterbox. pop3 leaves
# flags alone, so the POP3 row does not change what the IMAP rows sync.
DC_IMAP_PORT=$DC_IMAP dovecot_conf "$DC" "$DC/cert.pem" "$DC/key.pem" "$MUID" "$MGID" "$DC_IMAPS" "$DC_POP3S" \
	"mail_fsync = always
pop3_no_flag_updates = yes"
dovecot -c "$DC/dovecot.conf" -F &
PIDS+=($!)
for _ in $(seq 50); do python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1).close()' "$DC_IMAPS" 2>/dev/null && break; sleep 0.1; done
# Let Dovecot index every folder once, so no client pays for it; the
# folders are subscribed, as a user's folders are (letterbox syncs the
# subscribed ones, mbsync's Patterns * all).
python3 - "$DC_IMAPS" "$PASS" "$ANN" "$BOB" <<'PY'
import imaplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
for user in sys.argv[3:]:
    m = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=ctx); m.login(user, sys.argv[2])
    for f in (["INBOX", "Archive", "Sent", "Lists"] if user.startswith("ann") else ["INBOX"]):
        m.subscribe(f)
        print("dovecot %s %s: %s" % (user, f, m.select(f)[1][0].decode()))
        m.uid("FETCH", "1:*", "(FLAGS RFC822.SIZE)")
    m.logout()
PY

# --- clients -----------------------------------------------------------------
mbsync_rc() { # dir port user tls(IMAPS|STARTTLS) cert
	mkdir -p "$1/local"
	cat > "$1/rc" <<RC
IMAPAccount a
Host localhost
Port $2
User $3
Pass $PASS
SSLType $4
CertificateFile $5

IMAPStore far
Account a

MaildirStore near
Path $1/local/
Inbox $1/local/INBOX

Channel c
Far :far:
Near :near:
Patterns *
Create Near
Sync Pull
SyncState *
RC
}
lb_setup() { # dir mode(imap|pop3)
	mkdir -p "$1/data"
	local server="[account.imap]
host = \"127.0.0.1\"
port = $DC_IMAPS"
	[ "$2" = pop3 ] && server="[account.pop3]
host = \"127.0.0.1\"
port = $DC_POP3S"
	cat > "$1/config.toml" <<TOML
[[account]]
name = "bench"
email = "$ANN"
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
lbmail() { echo "named:$1/data/accounts/bench/mail"; }
# lbindex DIR FOLDERS: the store's index as `letterbox list --json`.
lbindex() {
	local f
	: > "$1/index.jsonl"
	for f in ${2//,/ }; do
		"$LB" --config "$1/config.toml" --data "$1/data" list bench --folder "$f" --json --limit 1000000 >> "$1/index.jsonl"
	done
	echo "$1/index.jsonl"
}
lbsync() { echo "$LB" --config "$1/config.toml" --data "$1/data" sync bench; }
sec() { cut -d' ' -f1 <<<"$1"; }
rssmb() { calc "round($(cut -d' ' -f2 <<<"$1")/1024)"; }

MBD= LBD=
if want full || want nochange || want incr; then
	say "== full IMAP sync of 19,000 messages in 4 folders (median of $RUNS; peak RSS max of $RUNS)"
	sync
	say "  file create beside the clients' Maildirs: $(settle "$OUT/work") ms"
	l0=$(load1) OK=1 mb=() lb=() mbr=() lbr=()
	for r in $(seq "$RUNS"); do
		MBD=$OUT/work/full-mbsync.$r LBD=$OUT/work/full-lb.$r
		mbsync_rc "$MBD" "$DC_IMAPS" "$ANN" IMAPS "$DC/cert.pem"
		lb_setup "$LBD" imap
		for who in $( ((r % 2)) && echo "mb lb" || echo "lb mb"); do
			if [ $who = mb ]; then
				m=$(measure mbsync -q -c "$MBD/rc" -a); mb+=("$(sec "$m")"); mbr+=("$(rssmb "$m")")
			else
				m=$(measure $(lbsync "$LBD")); lb+=("$(sec "$m")"); lbr+=("$(rssmb "$m")")
			fi
		done
		say "  run $r: mbsync ${mb[-1]} s ${mbr[-1]} MB, letterbox ${lb[-1]} s ${lbr[-1]} MB"
		checked check compare --want "fs:$DC/mail/$ANN" --got "named:$MBD/local" --got "$(lbmail "$LBD")" \
			--index "$(lbindex "$LBD" $FOLDERS)" --folders $FOLDERS --count INBOX=10000 --count Archive=4000 --count Sent=3000 --count Lists=2000
	done
	M=$(printf '%s\n' "${mb[@]}" | median) L=$(printf '%s\n' "${lb[@]}" | median)
	MR=$(printf '%s\n' "${mbr[@]}" | sort -n | tail -1) LR=$(printf '%s\n' "${lbr[@]}" | sort -n | tail -1)
	say "  mbsync: ${mb[*]} s; letterbox: ${lb[*]} s; peak RSS mbsync ${mbr[*]} MB, letterbox ${lbr[*]} MB"
	R=$(calc "round($L/$M, 2)")
	row "full IMAP sync, 19,000 msgs in 4 folders" "$L s" "mbsync $M s" "$R" "<= 0.8" $(calc "int($OK and $R <= 0.8)") "$l0-$(load1)"
	row "peak RSS of that sync" "$LR MB" "mbsync $MR MB" "$(calc "round($LR/$MR, 1)")" "<= 64 MB" $(calc "int($OK and $LR <= 64)") "$l0-$(load1)"
fi

if want nochange; then
	say "== no-change re-sync of the 4 folders (median of $QRUNS, alternating, ms)"
	l0=$(load1) OK=1 mb=() lb=()
	for r in $(seq "$QRUNS"); do
		mb+=("$(calc "round($(sec "$(measure mbsync -q -c "$MBD/rc" -a)")*1000, 1)")")
		lb+=("$(calc "round($(sec "$(measure $(lbsync "$LBD"))")*1000, 1)")")
	done
	checked check compare --want "fs:$DC/mail/$ANN" --got "named:$MBD/local" --got "$(lbmail "$LBD")" \
		--index "$(lbindex "$LBD" $FOLDERS)" --folders $FOLDERS
	M=$(printf '%s\n' "${mb[@]}" | median) L=$(printf '%s\n' "${lb[@]}" | median)
	say "  mbsync: ${mb[*]}"
	say "  letterbox: ${lb[*]}"
	R=$(calc "round($L/$M, 2)")
	row "no-change re-sync, 4 folders" "$L ms" "mbsync $M ms" "$R" "<= 0.5" $(calc "int($OK and $R <= 0.5)") "$l0-$(load1)"
fi

if want pop3; then
	N=$(check status "$DC_IMAPS" "$ANN" "$PASS" INBOX)
	say "== POP3 download of the INBOX ($N messages), keep (median of $RUNS)"
	sync
	say "  file create: $(settle "$OUT/work") ms"
	l0=$(load1) OK=1 fm=() lb=()
	for r in $(seq "$RUNS"); do
		d=$OUT/work/fetchmail.$r
		mkdir -p "$d/home"
		cat > "$d/rc" <<RC
set no bouncemail
poll 127.0.0.1 protocol pop3 port $DC_POP3S timeout 120
  user "$ANN" there with password "$PASS" is "$(id -un)" here
  options ssl sslcertck sslcertfile "$DC/cert.pem" sslcommonname "localhost" keep fetchall
  mda "wc -c >> $d/sizes"
RC
		chmod 600 "$d/rc"
		lb_setup "$OUT/work/lbpop.$r" pop3
		for who in $( ((r % 2)) && echo "fm lb" || echo "lb fm"); do
			if [ $who = fm ]; then
				fm+=("$(sec "$(measure --env "HOME=$d/home" fetchmail -f "$d/rc" --nodetach --silent)")")
			else
				lb+=("$(sec "$(measure $(lbsync "$OUT/work/lbpop.$r"))")")
			fi
		done
		got=$(wc -l < "$d/sizes")
		say "  run $r: fetchmail ${fm[-1]} s ($got messages), letterbox ${lb[-1]} s"
		[ "$got" = "$N" ] || { say "    check: FAIL: fetchmail delivered $got of $N"; OK=0; }
		checked check compare --want "fs:$DC/mail/$ANN" --got "$(lbmail "$OUT/work/lbpop.$r")" \
			--index "$(lbindex "$OUT/work/lbpop.$r" INBOX)" --folders INBOX --noflags --count INBOX="$N"
	done
	F=$(printf '%s\n' "${fm[@]}" | median) L=$(printf '%s\n' "${lb[@]}" | median)
	R=$(calc "round($L/$F, 2)")
	row "POP3 download of $N (keep)" "$L s" "fetchmail $F s" "$R" "<= 0.75" $(calc "int($OK and $R <= 0.75)") "$l0-$(load1)"
fi

if want incr; then
	say "== incremental IMAP sync: 100 new messages + 500 flag changes in 4 folders per run ($NEWSPEC)"
	l0=$(load1) OK=1 mb=() lb=()
	for r in $(seq 0 $((RUNS - 1))); do
		python3 bench/lib/imapchange.py "$DC_IMAPS" "$ANN" "$PASS" "$TREE/new" "$r" "$NEWSPEC" >> "$RES"
		for who in $( ((r % 2)) && echo "lb mb" || echo "mb lb"); do
			if [ $who = mb ]; then
				mb+=("$(sec "$(measure mbsync -q -c "$MBD/rc" -a)")")
			else
				lb+=("$(sec "$(MEASURE_LOG=$LBD/incr.log measure $(lbsync "$LBD"))")")
			fi
		done
		say "  run $((r + 1)): mbsync ${mb[-1]} s, letterbox ${lb[-1]} s"
		checked check compare --want "fs:$DC/mail/$ANN" --got "named:$MBD/local" --got "$(lbmail "$LBD")" \
			--index "$(lbindex "$LBD" $FOLDERS)" --folders $FOLDERS
	done
	M=$(printf '%s\n' "${mb[@]}" | median) L=$(printf '%s\n' "${lb[@]}" | median)
	R=$(calc "round($L/$M, 2)")
	row "incremental IMAP sync: 100 new + 500 flag changes" "$L s" "mbsync $M s" "$R" "<= 1.0" $(calc "int($OK and $R <= 1.0)") "$l0-$(load1)"
fi

# --- letterbox serve -----------------------------------------------------------
if want serve || want smtp || want idle; then
	LBDATA=$OUT/lbserve/data
	echo "$PASS" | "$LB" serve user add --data "$LBDATA" "$BOB" --password-stdin
	"$LB" store import --quiet --store "$LBDATA/mail/$BOB" "$TREE/INBOX"
	LB_SMTP=$(freeport) LB_IMAP=$(freeport) LB_IMAPS=$(freeport)
	"$LB" serve --dev --data "$LBDATA" --smtp-addr 127.0.0.1:$LB_SMTP --submission-addr= --smtps-addr= \
		--imap-addr 127.0.0.1:$LB_IMAP --imaps-addr 127.0.0.1:$LB_IMAPS --pop3-addr= --pop3s-addr= \
		>"$OUT/lbserve/serve.out" 2>"$OUT/lbserve/serve.log" &
	LB_PID=$!
	PIDS+=($LB_PID)
	for _ in $(seq 100); do python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1).close()' "$LB_SMTP" 2>/dev/null && break; sleep 0.1; done
	LB_CERT=$LBDATA/tls/cert.pem
fi

if want serve; then
	say "== mbsync full sync of the 10,000-message INBOX over IMAP+STARTTLS: from letterbox serve vs from Dovecot (median of $RUNS)"
	sync
	say "  file create: $(settle "$OUT/work") ms"
	l0=$(load1) OK=1 lbs=() dcs=()
	for r in $(seq "$RUNS"); do
		for who in $( ((r % 2)) && echo "lb dc" || echo "dc lb"); do
			d=$OUT/work/serve-$who.$r
			# The previous run's writes (mbsync fsyncs, the check's
			# reads) out of the way of this one: without it the first
			# server of each pair measured slower, whichever it was.
			sync
			if [ $who = lb ]; then
				mbsync_rc "$d" "$LB_IMAP" "$BOB" STARTTLS "$LB_CERT"
				lbs+=("$(sec "$(measure mbsync -q -c "$d/rc" -a)")")
			else
				mbsync_rc "$d" "$DC_IMAP" "$BOB" STARTTLS "$DC/cert.pem"
				dcs+=("$(sec "$(measure mbsync -q -c "$d/rc" -a)")")
			fi
		done
		say "  run $r: from letterbox ${lbs[-1]} s, from Dovecot ${dcs[-1]} s"
		checked check compare --want "named:$TREE" --got "named:$OUT/work/serve-lb.$r/local" --got "named:$OUT/work/serve-dc.$r/local" \
			--folders INBOX --count INBOX=10000
	done
	L=$(printf '%s\n' "${lbs[@]}" | median) D=$(printf '%s\n' "${dcs[@]}" | median)
	# The ratio is the median of the runs' ratios: each run times both
	# servers back to back, under the same load.
	R=$(for i in "${!lbs[@]}"; do calc "${lbs[$i]}/${dcs[$i]}"; done | median)
	R=$(calc "round($R, 2)")
	say "  per-run ratios: $(for i in "${!lbs[@]}"; do calc "round(${lbs[$i]}/${dcs[$i]}, 2)"; done | tr '\n' ' ')"
	row "mbsync full sync of 10,000 over STARTTLS: from serve vs Dovecot" "$L s" "Dovecot $D s" "$R" "<= 1.0" $(calc "int($OK and $R <= 1.0)") "$l0-$(load1)"
fi

if want smtp; then
	say "== SMTP acceptance: smtp-source -s 20 -m $SMTP_M -l 10240 into letterbox serve, smtp-sink, Postfix (median of $RUNS)"
	PFDIR=$OUT/postfix PF_PORT=$(freeport) SINK=$(freeport)
	postfix_conf "$PFDIR" "$PF_PORT" example.test
	postfix_start "$PFDIR"
	/usr/sbin/smtp-sink -u nobody -c 127.0.0.1:$SINK 1000 >/dev/null 2>&1 &
	PIDS+=($!)
	sync
	say "  file create: $(settle "$LBDATA") ms"
	src() { sec "$(measure /usr/sbin/smtp-source -s 20 -m "$SMTP_M" -l 10240 -f load@load.test -t "$BOB" "127.0.0.1:$1")"; }
	l0=$(load1) OK=1 lbt=() sink=() pf=()
	n0=$(check status "$LB_IMAPS" "$BOB" "$PASS" INBOX)
	for r in $(seq "$RUNS"); do
		lbt+=("$(src "$LB_SMTP")")
		text=$(text_backlog "$LBDATA/mail/$BOB/index.db")
		n1=$(check status "$LB_IMAPS" "$BOB" "$PASS" INBOX)
		sink+=("$(src "$SINK")")
		pf+=("$(src "$PF_PORT")")
		drain=$(postfix_drained "$PFDIR" $((SMTP_M * r))) || { say "    check: FAIL: $drain"; OK=0; }
		pfn=$(check count "named:$PFDIR/mail" box)
		say "  run $r: letterbox $(calc "round($SMTP_M/${lbt[-1]})") msg/s (full text caught up $text s after), smtp-sink $(calc "round($SMTP_M/${sink[-1]})"), Postfix $(calc "round($SMTP_M/${pf[-1]})") msg/s (queue drained $drain s after)"
		if [ $((n1 - n0)) = "$SMTP_M" ] && [ "$pfn" = $((SMTP_M * r)) ]; then
			say "    check: ok: letterbox INBOX +$((n1 - n0)), Postfix Maildir $pfn"
		else
			say "    check: FAIL: letterbox INBOX +$((n1 - n0)) of $SMTP_M, Postfix Maildir $pfn of $((SMTP_M * r))"
			OK=0
		fi
		n0=$n1
	done
	postfix_stop "$PFDIR"
	L=$(calc "round($SMTP_M/$(printf '%s\n' "${lbt[@]}" | median))") S=$(calc "round($SMTP_M/$(printf '%s\n' "${sink[@]}" | median))")
	P=$(calc "round($SMTP_M/$(printf '%s\n' "${pf[@]}" | median))")
	R=$(calc "round($L/$S, 2)")
	row "SMTP acceptance, durable, beside smtp-sink" "$L msg/s" "smtp-sink $S msg/s" "$R" ">= 0.30" $(calc "int($OK and $R >= 0.30)") "$l0-$(load1)"
	R=$(calc "round($L/$P, 2)")
	row "SMTP acceptance, durable, beside Postfix" "$L msg/s" "Postfix $P msg/s" "$R" ">= 3.0" $(calc "int($OK and $R >= 3.0)") "$l0-$(load1)"
fi

if want idle; then
	say "== $SESSIONS IMAP sessions in IDLE + $SUBMITTERS SMTP submitters for $DURATION"
	# The server's peak RSS is measured from here: clear_refs resets VmHWM.
	echo 5 > "/proc/$LB_PID/clear_refs"
	e0=$(grep -c 'level=ERROR' "$OUT/lbserve/serve.log" || true)
	l0=$(load1) OK=1
	"$OUT/bin/idleload" -imap 127.0.0.1:$LB_IMAP -smtp 127.0.0.1:$LB_SMTP -user "$BOB" -pass "$PASS" \
		-sessions "$SESSIONS" -submitters "$SUBMITTERS" -duration "$DURATION" -pid "$LB_PID" > "$OUT/idleload.out" 2>&1 || OK=0
	sed 's/^/  /' "$OUT/idleload.out" | grep -v '^  submit:' | tee -a "$RES"
	errs=$(( $(grep -c 'level=ERROR' "$OUT/lbserve/serve.log" || true) - e0 ))
	rss=$(sed -n 's/.*VmHWM: \([0-9]*\) kB.*/\1/p' "$OUT/idleload.out")
	rss=$(calc "round(${rss:-0}/1024)")
	sent=$(sed -n 's/^submitted \([0-9]*\) (\([0-9]*\) msg\/s), failed \([0-9]*\).*/\1 msgs, \2 msg\/s, \3 failed/p' "$OUT/idleload.out")
	say "  server errors logged: $errs; peak RSS ${rss} MB"
	[ "$errs" = 0 ] || OK=0
	row "$SESSIONS IDLE + $SUBMITTERS submitters, $DURATION" "${sent:-?}; RSS $rss MB" "-" "-" "0 errors, once, told, < 256 MB" $(calc "int($OK and $rss < 256)") "$l0-$(load1)"
fi

# --- the table -------------------------------------------------------------------
{
	echo
	echo "| workload | letterbox | peer | ratio | target | result | load (1 min) |"
	echo "|---|---|---|---|---|---|---|"
	awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, ($6 == "pass" ? "pass" : "**FAIL**"), $7}' "$TABLE"
	echo
	echo "$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(go version | cut -d' ' -f3); dovecot $(dovecot --version | cut -d' ' -f1); $(mbsync -v 2>&1 | head -1); fetchmail $(fetchmail -V 2>/dev/null | sed -n 's/^This is fetchmail release \([^ ,+]*\).*/\1/p' | head -1); postfix $(postconf -h mail_version); load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/table.md" | tee -a "$RES"

if [ "${KEEP:-}" = 1 ]; then
	declare -p DC_IMAPS DC_POP3S DC_IMAP ANN BOB PASS LB TREE NEWSPEC MBD LBD FOLDERS 2>/dev/null > "$OUT/keep.env" || true
	declare -p LB_SMTP LB_IMAP LB_IMAPS LB_PID LBDATA 2>/dev/null >> "$OUT/keep.env" || true
	# LOCK_FD: a descriptor holding a benchmark lock (flock) taken for the
	# measured rows; it is let go here, while the servers keep running.
	[ -z "${LOCK_FD:-}" ] || flock -u "$LOCK_FD"
	echo "KEEP=1: servers kept running; their settings are in $OUT/keep.env; kill $$ to end" | tee -a "$RES"
	while :; do sleep 3600; done
fi
