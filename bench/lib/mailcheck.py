#!/usr/bin/env python3
"""bench/lib/mailcheck.py: the correctness checks of bench/all.sh.

A fast wrong answer must not pass a benchmark row, so after every timed
run the mail a client ended up with is compared with the server's, message
by message (by Message-ID, which mailgen makes unique in a corpus):

  mailcheck.py split CORPUS OUT SPEC...
      moves the files of a mailgen Maildir (CORPUS/cur, names
      "<unix>.Q<n>.mailgen:2,<flags>") into folders: each SPEC is
      NAME=FIRST-LAST (message indexes n, inclusive); NAME "." is the
      Maildir root (Dovecot's INBOX in LAYOUT=fs). Other files stay.

  mailcheck.py compare --want TREE --got TREE [--got TREE ...]
              [--index JSONL] [--folders A,B,...] [--count F=N ...]
      a TREE is LAYOUT:DIR, where LAYOUT says where a folder lives:
        fs:DIR     folder F in DIR/F, INBOX in DIR itself (Dovecot LAYOUT=fs)
        named:DIR  every folder F, INBOX too, in DIR/F (mbsync, letterbox's store)
        flat:DIR   one folder, INBOX, in DIR (a POP3 download)
      Every --got tree must hold, per folder, exactly the messages of the
      --want tree: the same Message-IDs, none twice, the same standard
      flags (the Maildir ":2," letters D F R S T; P is left out, and
      letters are not compared for flat trees, POP3 has no flags), and
      bodies byte-identical once line ends are made LF (mbsync writes
      LF, Dovecot keeps an APPEND's line ends) and mbsync's X-TUID
      header is taken out.
      --index is `letterbox list --json` output for the folders: the
      store's index must agree with its files (same Message-IDs, flags).
      --count F=N also requires N messages in folder F of the --want tree.
      --noflags leaves flags out (a POP3 download has none).
      Prints one line "ok: ..." or "FAIL: ..." (and exits 1).

  mailcheck.py count TREE F
      prints the number of messages of folder F.

  mailcheck.py status PORT USER PASS F
      prints the MESSAGES of folder F by IMAP STATUS, over IMAPS on
      127.0.0.1:PORT (certificate not checked).

Hashes of message files are cached per directory in memory only; a check
of 19,000 messages reads ~500 MB, about a second from the page cache.
"""
import hashlib
import json
import os
import re
import sys

MAILDIR_FLAGS = "DFRST"  # P (passed) has no IMAP system flag in our check


def folder_dir(tree, folder):
    layout, root = tree.split(":", 1)
    if layout == "flat":
        return root
    if layout == "fs" and folder == "INBOX":
        return root
    return os.path.join(root, folder)


# mbsync adds an X-TUID header to the messages it stores (its own
# bookkeeping); it is left out of the comparison.
TUID_RE = re.compile(rb"^X-TUID: [^\n]*\n", re.M)
MID_RE = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.I | re.M)


def message_id(data):
    ends = [i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0]
    head = data[: min(ends)] if ends else data
    m = MID_RE.search(head)
    if not m:
        return None
    v = re.sub(rb"\s+", b"", m.group(1)).decode("latin-1")
    return v.strip("<>")


def scan(tree, folder):
    """Returns {msgid: (flags, hash)} and a list of duplicate ids."""
    d = folder_dir(tree, folder)
    out, dups, noid = {}, [], 0
    for sub in ("cur", "new"):
        p = os.path.join(d, sub)
        try:
            names = os.listdir(p)
        except FileNotFoundError:
            continue
        for name in names:
            with open(os.path.join(p, name), "rb") as f:
                data = f.read()
            flags = ""
            if ":2," in name:
                flags = "".join(sorted(c for c in name.rsplit(":2,", 1)[1] if c in MAILDIR_FLAGS))
            mid = message_id(data)
            if mid is None:
                noid += 1
                mid = "(none)#%d" % noid
            h = hashlib.sha256(TUID_RE.sub(b"", data.replace(b"\r\n", b"\n"), count=1)).hexdigest()
            if mid in out:
                dups.append(mid)
            out[mid] = (flags, h)
    return out, dups


def index_state(path):
    """letterbox list --json lines -> {folder: {msgid: flags}} and duplicates."""
    letters = {"\\draft": "D", "\\flagged": "F", "\\answered": "R", "\\seen": "S", "\\deleted": "T"}
    out, dups = {}, []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            m = json.loads(line)
            fl = "".join(sorted(letters[x.lower()] for x in m["flags"] if x.lower() in letters))
            box = out.setdefault(m["mailbox"], {})
            if m["message_id"] in box:
                dups.append(m["mailbox"] + "/" + m["message_id"])
            box[m["message_id"]] = fl
    return out, dups


def compare(args):
    want, gots, index, folders, counts = None, [], None, None, {}
    noflags = "--noflags" in args
    args = [a for a in args if a != "--noflags"]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--want":
            want = args[i + 1]
        elif a == "--got":
            gots.append(args[i + 1])
        elif a == "--index":
            index = args[i + 1]
        elif a == "--folders":
            folders = args[i + 1].split(",")
        elif a == "--count":
            k, v = args[i + 1].split("=")
            counts[k] = int(v)
        else:
            sys.exit("mailcheck: unknown argument " + a)
        i += 2
    if want is None or not gots or folders is None:
        sys.exit("mailcheck compare: need --want, --got and --folders")
    problems = []
    total = 0
    idx, idxdups = (index_state(index) if index else (None, []))
    problems += ["index lists %s twice" % d for d in idxdups[:3]]
    for folder in folders:
        w, wd = scan(want, folder)
        if wd:
            problems.append("the server's %s has duplicates (%s)" % (folder, wd[0]))
        if folder in counts and len(w) != counts[folder]:
            problems.append("the server's %s holds %d messages, expected %d" % (folder, len(w), counts[folder]))
        total += len(w)
        for got in gots:
            flat = noflags or got.startswith("flat:")
            g, gd = scan(got, folder)
            name = got.split(":", 1)[1].rstrip("/").split("/")[-3:]
            where = "%s (%s)" % (folder, "/".join(name))
            if gd:
                problems.append("%s: %d duplicates (%s)" % (where, len(gd), gd[0]))
            missing = [m for m in w if m not in g]
            extra = [m for m in g if m not in w]
            if missing or extra:
                problems.append("%s: %d messages, server %d (%d missing, %d extra)" % (where, len(g), len(w), len(missing), len(extra)))
            badflags = [m for m in w if m in g and not flat and g[m][0] != w[m][0]]
            if badflags:
                m = badflags[0]
                problems.append("%s: flags differ on %d (%s: %r, server %r)" % (where, len(badflags), m, g[m][0], w[m][0]))
            badbody = [m for m in w if m in g and g[m][1] != w[m][1]]
            if badbody:
                problems.append("%s: %d bodies differ (%s)" % (where, len(badbody), badbody[0]))
        if idx is not None:
            ix = idx.get(folder, {})
            if set(ix) != set(w):
                problems.append("index %s: %d messages, server %d" % (folder, len(ix), len(w)))
            bad = [m for m in w if m in ix and not noflags and ix[m] != w[m][0]]
            if bad:
                problems.append("index %s: flags differ on %d (%s: %r, server %r)" % (folder, len(bad), bad[0], ix[bad[0]], w[bad[0]][0]))
    if problems:
        print("FAIL: " + "; ".join(problems[:6]))
        sys.exit(1)
    print("ok: %d messages in %d folders, ids, flags and bodies equal" % (total, len(folders)))


def split(args):
    corpus, out, specs = args[0], args[1], args[2:]
    ranges = []
    for s in specs:
        name, r = s.split("=")
        a, b = r.split("-")
        ranges.append((name, int(a), int(b)))
    for name, _, _ in ranges:
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(out, name, sub) if name != "." else os.path.join(out, sub), exist_ok=True)
    src = os.path.join(corpus, "cur")
    for f in os.listdir(src):
        m = re.match(r"\d+\.Q(\d+)\.", f)
        if not m:
            continue
        n = int(m.group(1))
        for name, a, b in ranges:
            if a <= n <= b:
                dst = os.path.join(out, "cur", f) if name == "." else os.path.join(out, name, "cur", f)
                os.rename(os.path.join(src, f), dst)
                break


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "split":
        split(args)
    elif cmd == "compare":
        compare(args)
    elif cmd == "count":
        print(len(scan(args[0], args[1])[0]))
    elif cmd == "status":
        import imaplib
        import ssl
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        m = imaplib.IMAP4_SSL("127.0.0.1", int(args[0]), ssl_context=ctx)
        m.login(args[1], args[2])
        typ, data = m.status(args[3], "(MESSAGES)")
        m.logout()
        if typ != "OK":
            sys.exit("mailcheck status: %s" % data)
        print(int(re.search(rb"MESSAGES (\d+)", data[0]).group(1)))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
