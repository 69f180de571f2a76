package bind

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A spreadsheet that splits on any of these must find no piece of any cell
// that starts (spaces skipped) with a formula character.
var formulaPiece = regexp.MustCompile(`^ *[=+\-@]`)

func TestWriteCSVNeutralizesFormulasAfterAnySeparator(t *testing.T) {
	hostile := []string{
		"Work laptop;=cmd|' /C calc'!A0",
		"=1+1",
		"a,+SUM(A1)",
		"tab\t-2+3",
		"line\n@SUM(A1)",
		"cr\r=HYPERLINK(\"x\")",
		"spaced;  =cmd",
		" =lead",
		"\t=tabbed",
	}
	records := [][]string{{"id", "name"}}
	for i, h := range hostile {
		records = append(records, []string{string(rune('a' + i)), h})
	}
	records = append(records, []string{"plain", "Firefox 120 on Linux"}, []string{"ip", "2001:db8::1"})
	path := filepath.Join(t.TempDir(), "out.csv")
	if err := writeCSV(path, records); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A naive splitter that ignores quoting sees no formula either.
	for _, piece := range regexp.MustCompile("[,;\t\r\n]").Split(string(raw), -1) {
		if formulaPiece.MatchString(strings.TrimPrefix(piece, `"`)) {
			t.Errorf("piece %q of the file reads as a formula", piece)
		}
	}
	// A spreadsheet that honours quotes keeps each hostile field whole, one
	// cell with its text intact apart from the apostrophes.
	r := csv.NewReader(strings.NewReader(string(raw)))
	rows, err := r.ReadAll()
	if err != nil || len(rows) != len(records) {
		t.Fatalf("read back: %d rows, want %d (%v)", len(rows), len(records), err)
	}
	for i, h := range hostile {
		if got := rows[i+1][1]; strings.ReplaceAll(got, "'", "") != strings.ReplaceAll(h, "'", "") {
			t.Errorf("field %q came back as %q", h, got)
		}
	}
	// Harmless values are written as they are.
	if !strings.Contains(string(raw), "plain,Firefox 120 on Linux\r\n") || !strings.Contains(string(raw), "ip,2001:db8::1\r\n") {
		t.Errorf("plain values changed:\n%s", raw)
	}
}

func TestCSVFieldQuotesEverySeparator(t *testing.T) {
	for _, s := range []string{"a;b", "a,b", "a\tb", "a\nb", "a\rb", `a"b`, " a"} {
		if got := csvField(s); !strings.HasPrefix(got, `"`) || !strings.HasSuffix(got, `"`) {
			t.Errorf("csvField(%q) = %q, want it quoted", s, got)
		}
	}
}
