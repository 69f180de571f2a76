package bind

import (
	"encoding/csv"
	"errors"
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
	if err := writeCSV(path, records[0], func(write func([]string) error) error {
		for _, r := range records[1:] {
			if err := write(r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
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

// orderDialogs records when the save dialog was asked, relative to the rows.
type orderDialogs struct {
	path string
	log  *[]string
}

func (o orderDialogs) SaveFile(string, string) (string, error) {
	*o.log = append(*o.log, "dialog")
	return o.path, nil
}

// The save dialog comes before any row is read (at a million sessions the
// rows took ~20 s), and a walk that fails leaves no file and its own error.
func TestExportAsksFirstAndLeavesNoFileOnFailure(t *testing.T) {
	var log []string
	path := filepath.Join(t.TempDir(), "out.csv")
	layout := csvLayout[string]{header: []string{"id"}, record: func(s string) []string { return []string{s} }}
	walk := func(fail error) func(func(string) error) error {
		return func(fn func(string) error) error {
			log = append(log, "rows")
			for _, id := range []string{"a", "b"} {
				if err := fn(id); err != nil {
					return err
				}
			}
			return fail
		}
	}
	got, err := exportCSV(orderDialogs{path, &log}, "t", "n.csv", layout, walk(nil))
	if err != nil || got != path || strings.Join(log, ",") != "dialog,rows" {
		t.Fatalf("export: %q %v, order %v", got, err, log)
	}
	if raw, _ := os.ReadFile(path); string(raw) != "id\r\na\r\nb\r\n" {
		t.Fatalf("file %q", raw)
	}
	broke := errors.New("the index went away")
	if _, err := exportCSV(orderDialogs{path, &log}, "t", "n.csv", layout, walk(broke)); err != broke {
		t.Fatalf("failed walk: %v, want its own error", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a failed export left its file: %v", err)
	}
}
