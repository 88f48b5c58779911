package pop3d

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
)

// poplibScript downloads a whole maildrop with Python's poplib, verifying
// the server certificate against the test certificate, and writes each
// message to OUTDIR/<uidl>. It prints what STAT, LIST and RETR said.
const poplibScript = `
import json, os, poplib, ssl, sys

mode, host, port, user, password, cafile, outdir = sys.argv[1:]
ctx = ssl.create_default_context(cafile=cafile)
if mode == "pop3s":
    p = poplib.POP3_SSL(host, int(port), context=ctx, timeout=30)
else:
    p = poplib.POP3(host, int(port), timeout=30)
    if "STLS" not in p.capa():
        sys.exit("STLS not offered: %r" % p.capa())
    p.stls(context=ctx)
    if "STLS" in p.capa():
        sys.exit("STLS still offered after STLS")
p.user(user)
p.pass_(password)
count, size = p.stat()
sizes = {}
for line in p.list()[1]:
    n, s = line.split()
    sizes[int(n)] = int(s)
msgs = []
for line in p.uidl()[1]:
    n, uid = line.decode().split()
    resp, lines, octets = p.retr(int(n))
    data = b"".join(l + b"\r\n" for l in lines)
    with open(os.path.join(outdir, uid), "wb") as f:
        f.write(data)
    msgs.append({"n": int(n), "uidl": uid, "list": sizes[int(n)], "octets": octets,
                 "len": len(data), "resp": resp.decode()})
top = p.top(1, 0)[1]
p.quit()
print(json.dumps({"count": count, "size": size, "msgs": msgs, "top_lines": len(top)}))
`

type poplibResult struct {
	Count int `json:"count"`
	Size  int `json:"size"`
	Msgs  []struct {
		N      int    `json:"n"`
		UIDL   string `json:"uidl"`
		List   int    `json:"list"`
		Octets int    `json:"octets"`
		Len    int    `json:"len"`
		Resp   string `json:"resp"`
	} `json:"msgs"`
	TopLines int `json:"top_lines"`
}

// Python's poplib downloads every message over POP3S and over STLS, and
// gets exactly the octets that were stored (the corpus has CRLF line
// ends), with sizes in STAT, LIST and RETR matching them.
func TestPoplib(t *testing.T) {
	python := testpeer.Require(t, "python3", "python3")
	msgs := corpus(120, 7)
	e := newEnv(t, Options{}, true, msgs)
	script := filepath.Join(t.TempDir(), "fetch.py")
	if err := os.WriteFile(script, []byte(poplibScript), 0o644); err != nil {
		t.Fatal(err)
	}
	byUIDL := map[string][]byte{}
	total := 0
	for i, uid := range e.uids {
		byUIDL[fmt.Sprintf("%08x%08x", e.uv, uid)] = e.raws[i]
		total += len(e.raws[i])
	}
	for _, mode := range []string{"pop3s", "stls"} {
		t.Run(mode, func(t *testing.T) {
			addr := e.addr
			if mode == "pop3s" {
				addr = e.tlsAddr
			}
			host, port, _ := net.SplitHostPort(addr)
			out := t.TempDir()
			cmd := exec.Command(python, script, mode, host, port, alice, alicePW, e.certFile, out)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.Output()
			if err != nil {
				t.Fatalf("poplib: %v\n%s", err, stderr.String())
			}
			var res poplibResult
			if err := json.Unmarshal(stdout, &res); err != nil {
				t.Fatalf("poplib output %q: %v", stdout, err)
			}
			if res.Count != len(msgs) || res.Size != total || len(res.Msgs) != len(msgs) {
				t.Fatalf("STAT %d %d and %d messages; want %d %d", res.Count, res.Size, len(res.Msgs), len(msgs), total)
			}
			for _, m := range res.Msgs {
				want, ok := byUIDL[m.UIDL]
				if !ok {
					t.Fatalf("unknown UIDL %s", m.UIDL)
				}
				got, err := os.ReadFile(filepath.Join(out, m.UIDL))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("message %d (%s): %d octets differ from the %d stored", m.N, m.UIDL, len(got), len(want))
				}
				if m.List != len(want) || m.Octets != len(want) || m.Resp != fmt.Sprintf("+OK %d octets", len(want)) {
					t.Fatalf("message %d: LIST %d, received %d, %q; stored %d", m.N, m.List, m.Octets, m.Resp, len(want))
				}
			}
			if res.TopLines < 3 {
				t.Fatalf("TOP 1 0 gave %d lines", res.TopLines)
			}
		})
	}
	e.waitIdle()
	if got := e.storeUIDs(); len(got) != len(msgs) {
		t.Fatalf("poplib without DELE left %d of %d messages", len(got), len(msgs))
	}
}
