package store

import (
	"context"
	"fmt"
	"testing"
)

func cjkMsg(id, subject, body string) string {
	return fmt.Sprintf("From: a@example.test\r\nSubject: %s\r\nMessage-ID: <%s>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", subject, id, body)
}

func searchSubjects(t *testing.T, s *Store, q string) map[string]bool {
	t.Helper()
	msgs, err := s.Search(context.Background(), q, SearchOptions{Limit: 100})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out := map[string]bool{}
	for _, m := range msgs {
		out[m.Subject] = true
	}
	return out
}

// TestSearchCJK: any substring of two or more characters of a Chinese,
// Japanese or Korean run matches, in the subject, the body and names, as
// a term, a prefix or a field term; one character matches too; what is
// not a substring does not (issue 15 item 2).
func TestSearchCJK(t *testing.T) {
	s, _ := openTest(t)
	mustAppend(t, s, "INBOX", cjkMsg("zh", "第三四半期報告書", "请查看附件中的预算表。"))
	mustAppend(t, s, "INBOX", cjkMsg("ja", "会議のお知らせ", "プロジェクトの議事録を送ります。"))
	mustAppend(t, s, "INBOX", cjkMsg("ko", "분기 보고서", "보고서를 첨부합니다."))
	mustAppend(t, s, "INBOX", cjkMsg("en", "Q3報告 budget", "The budget is attached."))
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"報告書", []string{"第三四半期報告書"}},
		{"報告書*", []string{"第三四半期報告書"}},
		{"subject:報告", []string{"第三四半期報告書", "Q3報告 budget"}},
		{"四半期報告", []string{"第三四半期報告書"}},
		{"報", []string{"第三四半期報告書", "Q3報告 budget"}},
		{"書", []string{"第三四半期報告書"}},
		{"预算", []string{"第三四半期報告書"}},
		{"body:附件", []string{"第三四半期報告書"}},
		{"議事録", []string{"会議のお知らせ"}},
		{"ロジェ", []string{"会議のお知らせ"}},
		{"お知らせ", []string{"会議のお知らせ"}},
		{"보고서", []string{"분기 보고서"}},
		{"첨부", []string{"분기 보고서"}},
		{"Q3報告", []string{"Q3報告 budget"}},
		{"budget", []string{"Q3報告 budget"}},
		{"報書", nil},
		{"告報", nil},
		{"subject:附件", nil},
		{"報告書 -subject:四半期", nil},
	} {
		got := searchSubjects(t, s, tc.q)
		if len(got) != len(tc.want) {
			t.Errorf("%s: found %v, want %v", tc.q, got, tc.want)
			continue
		}
		for _, w := range tc.want {
			if !got[w] {
				t.Errorf("%s: found %v, want %v", tc.q, got, tc.want)
			}
		}
	}
	// A count agrees.
	if n, err := s.Count(context.Background(), "報告", SearchOptions{}); err != nil || n != 2 {
		t.Fatalf("count: %d %v", n, err)
	}
}

// TestCJKMigration: a store of schema 10 has whole runs in its full-text
// rows; opened, its full text is rebuilt with bigrams.
func TestCJKMigration(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	res := mustAppend(t, s, "INBOX", cjkMsg("zh", "第三四半期報告書", "本文"))
	// As version 10 indexed it: the run as one token.
	for _, q := range []string{
		fmt.Sprintf("DELETE FROM fts WHERE rowid = %d", res.ID),
		fmt.Sprintf("INSERT INTO fts(rowid, from_addr, to_addr, cc_addr, subject, body) VALUES(%d, 'a example test', '', '', '第三四半期報告書', '本文')", res.ID),
		"PRAGMA user_version = 10",
	} {
		if _, err := s.wdb.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if got := searchSubjects(t, s, "報告書"); len(got) != 0 {
		t.Fatalf("the old row matched: %v", got)
	}
	s.Close()
	s2, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := searchSubjects(t, s2, "報告書"); !got["第三四半期報告書"] {
		t.Fatalf("after the migration: %v", got)
	}
	if got := searchSubjects(t, s2, "本文"); len(got) != 1 {
		t.Fatalf("the body after the migration: %v", got)
	}
}
