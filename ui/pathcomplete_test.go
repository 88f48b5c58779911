package ui

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCompletePath(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"report-q3.pdf", "report-q4.pdf", "photo.jpg", ".hidden"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "pictures"), 0o700); err != nil {
		t.Fatal(err)
	}
	d := dir + "/"
	tests := []struct{ in, want string }{
		{d + "ph", d + "photo.jpg"},  // one match
		{d + "rep", d + "report-q"},  // common prefix of two
		{d + "pic", d + "pictures/"}, // a directory
		{d + "zzz", d + "zzz"},       // nothing
		{d + ".hi", d + ".hidden"},   // hidden only when asked
		{d + "p", d + "p"},           // photo.jpg and pictures/ share nothing more
		{"/no/such/dir/x", "/no/such/dir/x"},
	}
	for _, tc := range tests {
		if got := completePath(tc.in); got != tc.want {
			t.Errorf("completePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestAttachPromptTab: tab in the attach prompt completes through a Cmd,
// and a completion that arrives after the user typed on is dropped.
func TestAttachPromptTab(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "invoice.pdf"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newPrompt(testCommon())
	p, _ = p.open(promptAttach, "attach file: ", dir+"/inv")
	p, cmd := p.Update(keyMsg("tab"))
	if cmd == nil {
		t.Fatal("tab gave no completion command")
	}
	msg := cmd()
	p, _ = p.Update(msg)
	if got := p.input.Value(); got != dir+"/invoice.pdf" {
		t.Fatalf("after tab: %q", got)
	}
	stale := pathCompletedMsg{from: dir + "/x", to: dir + "/xyz"}
	if p, _ = p.Update(stale); p.input.Value() != dir+"/invoice.pdf" {
		t.Fatalf("a stale completion applied: %q", p.input.Value())
	}
}
