package queue

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MTA-STS (RFC 8461): a domain publishes, over HTTPS, which MX hosts may
// receive its mail and that they must offer STARTTLS with a certificate
// valid for their name. The queue fetches the policy, caches it on disk
// (one JSON file per domain under Options.MTASTSDir) for its max_age,
// fetches again when the TXT record's id changes, and applies it to
// each delivery: enforce (deliver only to a matching MX over verified
// TLS, else defer), testing (log what would fail, deliver as without a
// policy) or none.

// TXTResolver looks up TXT records; Options.Resolver is asked for it by
// type assertion (*net.Resolver has it). Without it MTA-STS is off.
type TXTResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// STS policy modes (RFC 8461 section 5).
const (
	stsEnforce = "enforce"
	stsTesting = "testing"
	stsNone    = "none"
)

// maxPolicyBytes bounds a policy file (RFC 8461 section 3.3 says 64 KiB).
const maxPolicyBytes = 64 << 10

// maxMaxAge is the largest max_age honoured (RFC 8461 section 3.2).
const maxMaxAge = 31557600

// stsPolicy is a fetched policy, as cached.
type stsPolicy struct {
	Domain  string    `json:"domain"`
	ID      string    `json:"id"` // of the TXT record it was fetched for
	Mode    string    `json:"mode"`
	MX      []string  `json:"mx"`
	MaxAge  int64     `json:"max_age"` // seconds
	Fetched time.Time `json:"fetched"`
}

func (p *stsPolicy) valid(now time.Time) bool {
	return p != nil && now.Before(p.Fetched.Add(time.Duration(p.MaxAge)*time.Second))
}

// matches reports whether an MX host name matches one of the policy's
// patterns: the name itself, or "*." and a parent matching exactly one
// more label (RFC 8461 section 4.1).
func (p *stsPolicy) matches(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, pat := range p.MX {
		pat = strings.ToLower(strings.TrimSuffix(pat, "."))
		if rest, ok := strings.CutPrefix(pat, "*."); ok {
			if label, parent, found := strings.Cut(host, "."); found && label != "" && parent == rest {
				return true
			}
		} else if host == pat {
			return true
		}
	}
	return false
}

// stsCache finds and caches the policies of recipient domains.
type stsCache struct {
	dir    string
	res    TXTResolver // nil: MTA-STS off
	client *http.Client
	log    *slog.Logger
	mu     sync.Mutex             // guards locks
	locks  map[string]*sync.Mutex // one lookup per domain at a time
}

func newSTSCache(dir string, res Resolver, client *http.Client, log *slog.Logger) *stsCache {
	txt, _ := res.(TXTResolver)
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	// RFC 8461 section 3.3: redirects must not be followed.
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &stsCache{dir: dir, res: txt, client: &c, log: log, locks: map[string]*sync.Mutex{}}
}

// policy returns the domain's policy, or nil when it has none, or none
// can be had (RFC 8461 section 5.1: then deliver as without one).
func (c *stsCache) policy(ctx context.Context, domain string) *stsPolicy {
	if c.res == nil {
		return nil
	}
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	c.mu.Lock()
	l := c.locks[domain]
	if l == nil {
		l = new(sync.Mutex)
		c.locks[domain] = l
	}
	c.mu.Unlock()
	l.Lock()
	defer l.Unlock()
	now := time.Now()
	cached := c.load(domain)
	if !cached.valid(now) {
		cached = nil
	}
	id, err := c.txtID(ctx, domain)
	if err != nil {
		// No record (or no answer): a cached policy still holds until
		// it expires (RFC 8461 section 5.1).
		return cached
	}
	if cached != nil && cached.ID == id {
		return cached
	}
	p, err := c.fetch(ctx, domain)
	if err != nil {
		c.log.Warn("mta-sts policy fetch failed", "domain", domain, "err", err, "cached", cached != nil)
		return cached
	}
	p.Domain, p.ID, p.Fetched = domain, id, now
	if err := c.save(p); err != nil {
		c.log.Warn("mta-sts policy cache", "domain", domain, "err", err)
	}
	return p
}

// txtID returns the id of the domain's one valid _mta-sts TXT record
// (RFC 8461 section 3.1).
func (c *stsCache) txtID(ctx context.Context, domain string) (string, error) {
	txts, err := c.res.LookupTXT(ctx, "_mta-sts."+domain)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, t := range txts {
		if !strings.HasPrefix(t, "v=STSv1") {
			continue
		}
		id := ""
		for _, f := range strings.Split(t, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
			if k == "id" {
				id = v
			}
		}
		if id == "" || len(id) > 32 {
			return "", fmt.Errorf("mta-sts: bad TXT record %q", t)
		}
		ids = append(ids, id)
	}
	if len(ids) != 1 {
		return "", fmt.Errorf("mta-sts: %d STSv1 TXT records", len(ids))
	}
	return ids[0], nil
}

// fetch gets and parses https://mta-sts.DOMAIN/.well-known/mta-sts.txt
// (RFC 8461 section 3.3), the certificate verified by the client.
func (c *stsCache) fetch(ctx context.Context, domain string) (*stsPolicy, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://mta-sts."+domain+"/.well-known/mta-sts.txt", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("mta-sts: HTTP %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPolicyBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxPolicyBytes {
		return nil, errors.New("mta-sts: policy over 64 KiB")
	}
	return parsePolicy(string(body))
}

// parsePolicy reads a policy file (RFC 8461 section 3.2).
func parsePolicy(text string) (*stsPolicy, error) {
	p := &stsPolicy{MaxAge: -1}
	version := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "version":
			version = v
		case "mode":
			p.Mode = v
		case "mx":
			p.MX = append(p.MX, v)
		case "max_age":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || len(v) > 10 {
				return nil, fmt.Errorf("mta-sts: bad max_age %q", v)
			}
			p.MaxAge = min(n, maxMaxAge)
		}
	}
	switch {
	case version != "STSv1":
		return nil, fmt.Errorf("mta-sts: version %q", version)
	case p.Mode != stsEnforce && p.Mode != stsTesting && p.Mode != stsNone:
		return nil, fmt.Errorf("mta-sts: mode %q", p.Mode)
	case p.MaxAge < 0:
		return nil, errors.New("mta-sts: no max_age")
	case len(p.MX) == 0 && p.Mode != stsNone:
		return nil, errors.New("mta-sts: no mx")
	}
	return p, nil
}

func (c *stsCache) path(domain string) string {
	return filepath.Join(c.dir, domain+".json")
}

func (c *stsCache) load(domain string) *stsPolicy {
	if strings.ContainsAny(domain, `/\`) {
		return nil
	}
	data, err := os.ReadFile(c.path(domain))
	if err != nil {
		return nil
	}
	var p stsPolicy
	if json.Unmarshal(data, &p) != nil || p.Domain != domain {
		return nil
	}
	return &p
}

// save writes the cache file (a cache: no fsync; a lost one is fetched
// again).
func (c *stsCache) save(p *stsPolicy) error {
	if strings.ContainsAny(p.Domain, `/\`) {
		return errors.New("bad domain")
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	tmp := c.path(p.Domain) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, c.path(p.Domain))
}

// tlsPolicy is how one delivery treats TLS.
type tlsPolicy struct {
	verify  bool // the certificate must be valid for the MX name
	require bool // no delivery without (verified) TLS
	name    string
}

var (
	tlsOpportunistic = tlsPolicy{name: "opportunistic STARTTLS (no MTA-STS policy)"}
	tlsSTSEnforce    = tlsPolicy{verify: true, require: true, name: "MTA-STS enforce"}
	tlsSTSTesting    = tlsPolicy{verify: true, name: "MTA-STS testing"}
)
