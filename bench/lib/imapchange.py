#!/usr/bin/env python3
"""bench/lib/imapchange.py: the server-side changes of bench/all.sh's
incremental sync row, made over IMAP with imaplib (as another device of
the user would make them):

  imapchange.py PORT USER PASS NEWDIR ROUND SPEC

PORT is the server's IMAPS port on 127.0.0.1 (certificate not checked).
SPEC is FOLDER:NEW:FLAGS[,FOLDER:NEW:FLAGS...]: in each folder, APPEND
NEW messages and change the flags of FLAGS existing messages. The new
messages are the files of the mailgen Maildir NEWDIR/cur in the order of
their index (Q<n>), round ROUND (0, 1, ...) taking the next total of NEW
after the earlier rounds', so no message is appended twice. The flag
changes are real changes, picked at random (seeded by ROUND and folder):
four in five toggle \\Seen, one in five toggles \\Flagged, each message
at most once per round.
"""
import imaplib
import os
import random
import re
import ssl
import sys


def main():
    port, user, pw, newdir, rnd, spec = sys.argv[1:7]
    rnd = int(rnd)
    plan = []
    for part in spec.split(","):
        f, n, k = part.split(":")
        plan.append((f, int(n), int(k)))
    per_round = sum(n for _, n, _ in plan)
    files = sorted(os.listdir(os.path.join(newdir, "cur")), key=lambda f: int(re.search(r"\.Q(\d+)\.", f).group(1)))
    files = files[rnd * per_round:(rnd + 1) * per_round]
    if len(files) < per_round:
        sys.exit("imapchange: %s holds too few new messages for round %d" % (newdir, rnd))
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    m = imaplib.IMAP4_SSL("127.0.0.1", int(port), ssl_context=ctx)
    m.login(user, pw)
    appended = changed = 0
    for folder, n, k in plan:
        typ, data = m.select(folder)
        if typ != "OK":
            sys.exit("imapchange: select %s: %s" % (folder, data))
        typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
        flags = {}
        for line in data:
            if not isinstance(line, bytes):
                continue
            u = re.search(rb"UID (\d+)", line)
            fl = re.search(rb"FLAGS \(([^)]*)\)", line)
            if u and fl:
                flags[int(u.group(1))] = fl.group(1).decode().split()
        rng = random.Random("%d/%s" % (rnd, folder))
        uids = rng.sample(sorted(flags), k)
        groups = {}
        for i, u in enumerate(uids):
            flag = "\\Flagged" if i % 5 == 4 else "\\Seen"
            op = "-FLAGS.SILENT" if flag in flags[u] else "+FLAGS.SILENT"
            groups.setdefault((op, flag), []).append(str(u))
        for (op, flag), us in groups.items():
            typ, data = m.uid("STORE", ",".join(us), op, "(%s)" % flag)
            if typ != "OK":
                sys.exit("imapchange: store %s: %s" % (folder, data))
            changed += len(us)
        for _ in range(n):
            with open(os.path.join(newdir, "cur", files[appended]), "rb") as f:
                body = f.read()
            typ, data = m.append(folder, None, None, body)
            if typ != "OK":
                sys.exit("imapchange: append %s: %s" % (folder, data))
            appended += 1
    m.logout()
    print("imapchange: round %d: %d appended, %d flag changes" % (rnd, appended, changed))


if __name__ == "__main__":
    main()
