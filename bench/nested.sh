#!/usr/bin/env bash
# bench/nested.sh: the message of issue 12 item 1 against letterbox serve,
# as an attacker sends it. For each depth in LEVELS (5000 20000): mail a
# message of that many nested message/rfc822 parts to a user over SMTP
# (port 25 role), then over IMAP `UID FETCH uid (BODYSTRUCTURE ENVELOPE)`
# twice (the first computes the structure, the second reads it from the
# index). Reported per fetch: wall time of the command, and the server's
# RSS above idle (VmHWM, its peak, after the fetch, minus VmRSS before it;
# the peak is reset through /proc/PID/clear_refs first).
#
# A server that passes MAXRSS_MB (4096) during a fetch is killed and the
# fetch reported as such: go-imap's ExtractBodyStructure passed 7 GB at
# 20,000 levels and kept going.
#
# Needs python3 and go. Tunables: LEVELS ("5000 20000"), MAXRSS_MB.
# Results in bench/out/nested/results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/bench/out/nested}
LEVELS=${LEVELS:-"5000 20000"}
MAXRSS_MB=${MAXRSS_MB:-4096}
for tool in go python3; do
	command -v "$tool" >/dev/null || { echo "nested.sh: $tool is missing" >&2; exit 1; }
done
rm -rf "$OUT"
mkdir -p "$OUT/bin"
echo "== building at $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
go build -o "$OUT/bin/letterbox" .
LB=$OUT/bin/letterbox
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

USER_=bob@example.test
PASS=bob
DATA=$OUT/data
echo "$PASS" | "$LB" serve user add --data "$DATA" "$USER_" --password-stdin
SMTP=$(freeport) IMAP=$(freeport)
"$LB" serve --dev --data "$DATA" --smtp-addr 127.0.0.1:$SMTP --submission-addr= --smtps-addr= \
	--imap-addr 127.0.0.1:$IMAP --imaps-addr= --pop3-addr= --pop3s-addr= \
	>"$OUT/serve.out" 2>"$OUT/serve.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
python3 - "$SMTP" "$IMAP" <<'PY'
import socket, sys, time
deadline = time.time() + 30
for port in sys.argv[1:]:
    while True:
        try:
            socket.create_connection(("127.0.0.1", int(port)), 1).close(); break
        except OSError:
            if time.time() > deadline: sys.exit("server did not start")
            time.sleep(0.1)
PY

python3 - "$PID" "$SMTP" "$IMAP" "$USER_" "$PASS" "$MAXRSS_MB" $LEVELS <<'PY' | tee "$OUT/results.txt"
import imaplib, os, re, smtplib, sys, threading, time
pid, smtp_port, imap_port, user, pw, maxrss = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
levels = [int(x) for x in sys.argv[7:]]

def status(key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024  # MB
    raise SystemExit(f"server {pid} is gone")

def nested(n):
    parts = [b"Subject: nest\r\nMIME-Version: 1.0\r\n"]
    for i in range(n - 1, -1, -1):
        parts.append(b"Content-Type: message/rfc822\r\n\r\nSubject: l%d\r\n" % i)
    parts.append(b"Content-Type: text/plain\r\n\r\ninner\r\n")
    return b"".join(parts)

def deliver(n):
    msg = b"From: attacker@example.net\r\nTo: " + user.encode() + b"\r\n" + nested(n)
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=60) as s:
        s.sendmail("attacker@example.net", [user], msg)
    return len(msg)

def uid_of(m, subject_count):
    typ, data = m.uid("SEARCH", None, "ALL")
    return data[0].split()[-1].decode()

print(f"{'levels':>7} {'KB':>6} {'fetch':>6} {'seconds':>8} {'RSS above idle MB':>18} {'answer KB':>9}")
m = imaplib.IMAP4("127.0.0.1", imap_port)
m.login(user, pw)
for n in levels:
    size = deliver(n)
    m.select("INBOX")
    uid = uid_of(m, n)
    for attempt in (1, 2):
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
        idle = status("VmRSS")
        killed = []
        stop = threading.Event()
        def watch():
            while not stop.is_set():
                if status("VmRSS") > maxrss:
                    killed.append(status("VmRSS"))
                    os.kill(int(pid), 9)
                    return
                stop.wait(0.05)
        w = threading.Thread(target=watch, daemon=True); w.start()
        t0 = time.monotonic()
        try:
            typ, data = m.uid("FETCH", uid, "(BODYSTRUCTURE ENVELOPE)")
            answer = sum(len(x) if isinstance(x, bytes) else sum(len(y) for y in x) for x in data)
        except Exception as e:
            typ, answer = f"error {e}", 0
        took = time.monotonic() - t0
        stop.set(); w.join()
        if killed:
            print(f"{n:>7} {size//1024:>6} {attempt:>6} {took:>8.2f} {'killed at ' + str(killed[0]):>18} {'-':>9}")
            sys.exit(0)
        peak = status("VmHWM")
        print(f"{n:>7} {size//1024:>6} {attempt:>6} {took:>8.3f} {peak - idle:>18} {answer//1024:>9}  ({typ})")
m.logout()
PY
