package accounts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeResolver answers SRV lookups from a table by service name; a
// service it lacks does not exist, one in errs fails with that error.
type fakeResolver struct {
	records map[string][]*net.SRV
	errs    map[string]error
}

func (f fakeResolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	cname := "_" + service + "._" + proto + "." + name + "."
	if err := f.errs[service]; err != nil {
		return "", nil, err
	}
	recs, ok := f.records[service]
	if !ok {
		return "", nil, &net.DNSError{Err: "no such host", Name: cname, IsNotFound: true}
	}
	return cname, recs, nil
}

// serveAutoconfig serves docs by path on 127.0.0.1 and records the
// requests; paths it lacks get 404.
func serveAutoconfig(t *testing.T, docs map[string]string) (*httptest.Server, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.URL.RequestURI())
		mu.Unlock()
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, doc)
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// testDiscoverer points every dependency at local fakes.
func testDiscoverer(srv *httptest.Server, res fakeResolver, log *[]string) *Discoverer {
	return &Discoverer{
		HTTP:     srv.Client(),
		Resolver: res,
		Dial:     localDialer(),
		AutoconfigURLs: []string{
			srv.URL + "/first/{domain}/config-v1.1.xml?emailaddress={email}",
			srv.URL + "/second/{domain}/config-v1.1.xml",
		},
		Log: func(s string) { *log = append(*log, s) },
	}
}

func TestDiscover(t *testing.T) {
	srv, requests := serveAutoconfig(t, map[string]string{"/second/example.com/config-v1.1.xml": thunderbirdISPDB})
	res := fakeResolver{
		records: map[string][]*net.SRV{
			"imaps": {
				{Target: "imap2.example.com.", Port: 993, Priority: 20},
				{Target: "imap1.example.com.", Port: 993, Priority: 10, Weight: 1},
				{Target: "imap.example.com.", Port: 993, Priority: 10, Weight: 5}, // also from autoconfig
			},
			"imap":        {{Target: "mail.provider.test.", Port: 143}},
			"pop3":        {{Target: ".", Port: 0}},
			"submissions": {{Target: "submit.example.com.", Port: 465}},
		},
		errs: map[string]error{"submission": errors.New("server misbehaving")},
	}
	var log []string
	d := testDiscoverer(srv, res, &log)
	got, err := d.Discover(context.Background(), "ann+x@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range got {
		lines = append(lines, fmt.Sprintf("%s %s:%d %s %s", c.Protocol, c.Host, c.Port, c.Security, c.Username))
	}
	want := []string{
		"imap imap.example.com:993 tls ann+x@Example.com",
		"imap imap.example.com:143 starttls ann+x",
		"pop3 pop.Example.com:995 tls ann+x",
		"smtp smtp.example.com:587 starttls ann+x@Example.com",
		"smtp smtp.example.com:25 none ",
		"imap imap1.example.com:993 tls ",
		"imap imap2.example.com:993 tls ",
		"imap mail.provider.test:143 starttls ",
		"smtp submit.example.com:465 tls ",
		"imap imap.example.com:0  ",
		"imap mail.example.com:0  ",
		"imap example.com:0  ",
		"pop3 pop3.example.com:0  ",
		"pop3 pop.example.com:0  ",
		"pop3 mail.example.com:0  ",
		"pop3 example.com:0  ",
		"smtp smtp.example.com:0  ",
		"smtp mail.example.com:0  ",
		"smtp example.com:0  ",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("candidates:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	wantRequests := []string{
		"/first/example.com/config-v1.1.xml?emailaddress=ann%2Bx%40Example.com",
		"/second/example.com/config-v1.1.xml",
	}
	if !reflect.DeepEqual(*requests, wantRequests) {
		t.Errorf("requests %q, want %q", *requests, wantRequests)
	}
	for _, w := range []string{
		"autoconfig " + srv.URL + "/first/example.com/config-v1.1.xml?emailaddress=ann%2Bx%40Example.com: HTTP status 404 Not Found",
		"autoconfig " + srv.URL + "/second/example.com/config-v1.1.xml: 5 servers",
		"SRV _imap._tcp.example.com: note: mail.provider.test is outside example.com; make sure it is your provider's",
		"SRV _pop3s._tcp.example.com: none",
		`SRV _pop3._tcp.example.com: not offered (target ".")`,
		"SRV _submission._tcp.example.com: server misbehaving",
	} {
		if !contains(log, w) {
			t.Errorf("log lacks %q:\n%s", w, strings.Join(log, "\n"))
		}
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func TestDiscoverFallsBackToGuesses(t *testing.T) {
	srv, _ := serveAutoconfig(t, map[string]string{"/first/example.org/config-v1.1.xml": "<html>oops</html>"})
	var log []string
	got, err := testDiscoverer(srv, fakeResolver{}, &log).Discover(context.Background(), "bob@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, guesses("example.org")) {
		t.Errorf("got %v, want only the guesses", got)
	}
	if len(log) != 2+6 || !strings.Contains(log[0], "clientConfig") {
		t.Errorf("log %q: want both autoconfig failures and six SRV lines", log)
	}
}

func TestDiscoverErrors(t *testing.T) {
	srv, _ := serveAutoconfig(t, nil)
	var log []string
	d := testDiscoverer(srv, fakeResolver{}, &log)
	for _, email := range []string{"", "ann", "Ann <ann@example.com>", "ann@", "ann@[127.0.0.1]", "ann@exa mple.com"} {
		if _, err := d.Discover(context.Background(), email); err == nil {
			t.Errorf("Discover(%q) succeeded", email)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Discover(ctx, "ann@example.com"); !errors.Is(err, context.Canceled) {
		t.Errorf("Discover with a cancelled context: %v", err)
	}
}

func TestConfigure(t *testing.T) {
	cert, d, _ := probeSetup(t, "imap.example.test", "smtp.example.test")
	imap := fakeServer{proto: IMAP, implicit: cert}.start(t)
	smtp := fakeServer{proto: SMTP, starttls: cert}.start(t)
	pop := fakeServer{proto: POP3, implicit: cert}.start(t)
	doc := strings.NewReplacer("993", strconv.Itoa(imap), "587", strconv.Itoa(smtp),
		"imap.example.com", "imap.example.test", "smtp.example.com", "smtp.example.test").Replace(thunderbirdISPDB)
	srv, _ := serveAutoconfig(t, map[string]string{"/first/example.com/config-v1.1.xml": doc})
	d.HTTP = srv.Client()
	d.AutoconfigURLs = []string{srv.URL + "/first/{domain}/config-v1.1.xml"}
	d.Resolver = fakeResolver{}
	ctx := context.Background()

	acct, err := d.Configure(ctx, "work", "ann@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	want := AccountConfig{Name: "work", Email: "ann@example.com", Mode: ModeIMAP,
		IMAP: ServerConfig{"imap.example.test", imap, SecurityTLS},
		SMTP: ServerConfig{"smtp.example.test", smtp, SecurityStartTLS}}
	if !reflect.DeepEqual(acct, want) {
		t.Errorf("Configure =\n%+v\nwant\n%+v", acct, want)
	}

	// The user names the POP3 server: no other POP3 server is probed,
	// and the login comes from nowhere (the address is the default).
	override, err := CandidateFor(POP3, "127.0.0.1:"+strconv.Itoa(pop))
	if err != nil {
		t.Fatal(err)
	}
	acct, err = d.Configure(ctx, "home", "ann@example.com", ModePOP3, override)
	if err != nil {
		t.Fatal(err)
	}
	if acct.Mode != ModePOP3 || acct.POP3 != (ServerConfig{"127.0.0.1", pop, SecurityTLS}) || acct.Login != "" {
		t.Errorf("POP3 override: %+v", acct)
	}

	if _, err := d.Configure(ctx, "bad name", "ann@example.com", ""); err == nil {
		t.Error("Configure accepted a bad name")
	}
	d.Ports = map[Protocol][]int{SMTP: {closedPort(t)}}
	d.AutoconfigURLs = []string{}
	if _, err := d.Configure(ctx, "work", "ann@example.com", ModeIMAP, override); !errors.Is(err, ErrNoServer) {
		t.Errorf("Configure with no IMAP server: %v", err)
	}
}
