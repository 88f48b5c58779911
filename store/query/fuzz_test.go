package query

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that parsing never panics, that errors are *Error
// wrapping ErrInvalid with a position inside the query, that the canonical
// form of a query parses to the same query, that every query compiles, and
// that Scope and SplitMailbox keep their promises. store's FuzzParseQuery
// runs the compiled SQL against the store's schema.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f, "testdata/fuzzseeds.json") {
		f.Add(s)
	}
	loc := time.FixedZone("UTC-5", -5*3600)
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			var qe *Error
			if !errors.As(err, &qe) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q): error %v is not a *Error wrapping ErrInvalid", s, err)
			}
			if qe.Pos < 0 || qe.Pos > len(s) {
				t.Fatalf("Parse(%q): error position %d out of range", s, qe.Pos)
			}
			_ = qe.Caret()
			return
		}
		canon := q.String()
		q2, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) gives %q, which does not parse: %v", s, canon, err)
		}
		if again := q2.String(); again != canon {
			t.Fatalf("Parse(%q) gives %q, which gives %q", s, canon, again)
		}
		if q2.NamesMailbox() != q.NamesMailbox() {
			t.Fatalf("NamesMailbox of %q and of its canonical form %q differ", s, canon)
		}
		if _, _, err := q.SQL(loc); err != nil {
			t.Fatalf("SQL(%q): %v", s, err)
		}
		scoped := Scope(q, "Box")
		if q.NamesMailbox() {
			if scoped != q {
				t.Fatalf("Scope(%q) changed a query that names its mailbox: %q", s, scoped)
			}
		} else {
			box, rest, ok := scoped.SplitMailbox()
			if !ok || box != "Box" || rest == nil || rest.String() != canon {
				t.Fatalf("Scope(%q) = %q, which splits into %q, %q, %v", s, scoped, box, rest, ok)
			}
			if !scoped.NamesMailbox() {
				t.Fatalf("Scope(%q) = %q names no mailbox", s, scoped)
			}
		}
		if _, _, err := scoped.SQL(loc); err != nil {
			t.Fatalf("SQL(Scope(%q)): %v", s, err)
		}
		if box, rest, ok := q.SplitMailbox(); ok {
			if !q.NamesMailbox() || box == "" && !strings.Contains(canon, `in:""`) {
				t.Fatalf("SplitMailbox(%q) = %q, %q", s, box, rest)
			}
			if rest != nil {
				if _, _, err := rest.SQL(loc); err != nil {
					t.Fatalf("SQL of the rest of %q: %v", s, err)
				}
			}
		}
	})
}

// fuzzSeeds reads the seed queries both query fuzzers start from
// (store/query/testdata/fuzzseeds.json: a JSON array of strings).
func fuzzSeeds(f *testing.F, path string) []string {
	f.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	var seeds []string
	if err := json.Unmarshal(data, &seeds); err != nil {
		f.Fatalf("%s: %v", path, err)
	}
	return seeds
}
