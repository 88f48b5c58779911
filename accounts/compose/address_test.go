package compose

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Address
		wantErr string // substring of the error; "" for none
	}{
		{name: "empty", in: "  ", want: nil},
		{name: "bare", in: "bob@y.org", want: []Address{{Addr: "bob@y.org"}}},
		{
			name: "name and bare",
			in:   "Ann <ann@x.org>, bob@y.org",
			want: []Address{{Name: "Ann", Addr: "ann@x.org"}, {Addr: "bob@y.org"}},
		},
		{
			name: "quoted comma and semicolons",
			in:   `"Smith, Carl" <carl@z.org>; dee@w.org;`,
			want: []Address{{Name: "Smith, Carl", Addr: "carl@z.org"}, {Addr: "dee@w.org"}},
		},
		{
			name: "encoded word",
			in:   "=?utf-8?q?J=C3=BCrgen?= <j@x.de>",
			want: []Address{{Name: "Jürgen", Addr: "j@x.de"}},
		},
		{
			name: "unicode name",
			in:   "Jürgen Müller <j@x.de>",
			want: []Address{{Name: "Jürgen Müller", Addr: "j@x.de"}},
		},
		{name: "comment with comma", in: "ann@x.org (Ann, work)", want: []Address{{Name: "Ann, work", Addr: "ann@x.org"}}},
		{name: "second item bad", in: "ann@x.org, bob@", wantErr: `address 2 "bob@"`},
		{name: "no at", in: "Ann <ann>", wantErr: `address 1 "Ann <ann>"`},
		{name: "unclosed angle", in: "Ann <ann@x.org", wantErr: "address 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAddressList(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidAddress) {
					t.Fatalf("ParseAddressList(%q) error = %v, want one containing %q wrapping ErrInvalidAddress", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAddressList(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseAddressList(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestRecipients(t *testing.T) {
	tests := []struct {
		name string
		d    Draft
		want []string
	}{
		{name: "none", d: Draft{}, want: []string{}},
		{
			name: "order and dedup",
			d: Draft{
				To:  []Address{{Addr: "a@x.org"}, {Addr: "B@x.org"}},
				Cc:  []Address{{Addr: "b@X.org"}, {Addr: "c@x.org"}},
				Bcc: []Address{{Addr: "d@x.org"}, {Addr: "A@X.ORG"}},
			},
			want: []string{"a@x.org", "B@x.org", "c@x.org", "d@x.org"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Recipients(&tt.d); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Recipients = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAddressHeader(t *testing.T) {
	tests := []struct {
		name    string
		a       Address
		want    string
		wantErr error
	}{
		{name: "bare", a: Address{Addr: "a@x.org"}, want: "<a@x.org>"},
		{name: "ascii name", a: Address{Name: "Ann Lee", Addr: "a@x.org"}, want: `"Ann Lee" <a@x.org>`},
		{name: "non-ascii name", a: Address{Name: "Zoë", Addr: "z@x.org"}, want: "=?utf-8?q?Zo=C3=AB?= <z@x.org>"},
		{name: "crlf in name", a: Address{Name: "Ann\r\nBcc: evil@x.org", Addr: "a@x.org"}, wantErr: ErrHeaderInjection},
		{name: "lf in addr", a: Address{Addr: "a@x.org\nBcc: e@x.org"}, wantErr: ErrHeaderInjection},
		{name: "not an address", a: Address{Addr: "ann"}, wantErr: ErrInvalidAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.a.header()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("header() error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("header() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
