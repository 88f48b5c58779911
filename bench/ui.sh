#!/usr/bin/env bash
# bench/ui.sh: launch to first complete frame on a 100,000-message INBOX,
# the real letterbox binary beside neomutt opening the same Maildir, both
# in a detached tmux (120x40). The store is the one `go test ./ui -bench`
# builds and caches (LETTERBOX_BENCH_STORE or
# $TMPDIR/letterbox-bench/ui-store-v1-n100000); run that first.
#
# Needs (Debian): tmux neomutt python3 time. Tunables: RUNS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
DATA=${LETTERBOX_BENCH_STORE:-${TMPDIR:-/tmp}/letterbox-bench/ui-store-v1-n100000}
MAILDIR=$DATA/accounts/bench/mail/INBOX
[ -d "$MAILDIR/cur" ] || { echo "ui.sh: no store at $DATA: run go test ./ui -run '^\$' -bench Launch first" >&2; exit 1; }
OUT=${OUT:-$PWD/bench/out/ui}
rm -rf "$OUT"; mkdir -p "$OUT/home/Mail"
go build -o "$OUT/letterbox" .
cat > "$OUT/config.toml" <<TOML
[[account]]
name = "bench"
email = "bench@example.test"
mode = "imap"
password_cmd = "echo x"
[account.imap]
host = "127.0.0.1"
port = 1
[account.smtp]
host = "127.0.0.1"
port = 1
TOML
chmod 600 "$OUT/config.toml"
echo "== letterbox: process start to the first frame showing the list (tmux polled every 5 ms)"
for r in $(seq "$RUNS"); do
	python3 - "$OUT" "$DATA" <<'PY'
import subprocess, sys, time
out, data = sys.argv[1], sys.argv[2]
s = time.time()
subprocess.run(["tmux", "-L", "lbui", "new-session", "-d", "-s", "u", "-x", "120", "-y", "40",
    f"{out}/letterbox --config {out}/config.toml --data {data} ui --no-sync"], check=True)
while True:
    pane = subprocess.run(["tmux", "-L", "lbui", "capture-pane", "-p", "-t", "u"], capture_output=True, text=True).stdout
    if "100000 messages" in pane:
        print("  %.0f ms" % ((time.time() - s) * 1000)); break
    if time.time() - s > 30:
        print("  timeout"); break
    time.sleep(0.005)
subprocess.run(["tmux", "-L", "lbui", "kill-server"])
PY
done
echo "== neomutt: open the same Maildir (no header cache) and quit"
for r in $(seq "$RUNS"); do
	rm -f "$OUT/nm.time"
	tmux -L nmui new-session -d -s n -x 120 -y 40 "HOME=$OUT/home /usr/bin/time -f %e -o $OUT/nm.time neomutt -n -F /dev/null -R -e 'set folder=$OUT/home/Mail' -e 'set quit=yes' -e 'set header_cache=\"\"' -e 'push q' -f $MAILDIR"
	while tmux -L nmui has-session -t n 2>/dev/null; do sleep 0.2; done
	echo "  $(cat "$OUT/nm.time") s"
done
echo "== $(neomutt -v | head -1); $(nproc) cores"
