package bind

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wailsapp/wails/v2/pkg/runtime"

	"sessiondesk/app/domain"
)

// Dialogs is the native file dialog, behind a seam for tests.
type Dialogs interface {
	// SaveFile asks where to save; "" means cancelled.
	SaveFile(title, defaultName string) (string, error)
}

// WailsDialogs uses the window's native save dialog.
func WailsDialogs(ctx context.Context) Dialogs { return wailsDialogs{ctx: ctx} }

type wailsDialogs struct{ ctx context.Context }

func (w wailsDialogs) SaveFile(title, defaultName string) (string, error) {
	return runtime.SaveFileDialog(w.ctx, runtime.SaveDialogOptions{
		Title:           title,
		DefaultFilename: defaultName,
		Filters:         []runtime.FileFilter{{DisplayName: "CSV files (*.csv)", Pattern: "*.csv"}},
	})
}

// csvLayout is one export's columns: its header and how a row reads.
type csvLayout[T any] struct {
	header []string
	record func(T) []string
}

// exportCSV asks where to save, then writes layout's header and each row
// that each walks, one at a time, to that file with mode 0600 (it holds
// staff names, e-mail addresses and IPs). The dialog comes before any row
// is read and no row is kept: at a million sessions, collecting every row
// and its record first held ~800 MB more and kept the save dialog waiting
// ~20 s. A failed export leaves no file behind.
func exportCSV[T any](d Dialogs, title, name string, layout csvLayout[T], each func(func(T) error) error) (string, error) {
	path, err := d.SaveFile(title, name)
	if err != nil {
		return "", &UIError{Code: "internal", Message: "The save dialog failed: " + err.Error()}
	}
	if path == "" {
		return "", nil
	}
	err = writeCSV(path, layout.header, func(write func([]string) error) error {
		return each(func(r T) error { return write(layout.record(r)) })
	})
	if err != nil {
		return "", err
	}
	return path, nil
}

// writeCSV writes header and the records rows gives to write into a new
// file at path (mode 0600). Writing fails as an "internal" UIError; an
// error of rows' own (the walk's) comes back unchanged. Either way the file
// is removed.
func writeCSV(path string, header []string, rows func(write func([]string) error) error) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return exportError(err)
	}
	w := bufio.NewWriter(f)
	var werr error
	write := func(r []string) error {
		for i, cell := range r {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(csvField(cell))
		}
		_, werr = w.WriteString("\r\n") // bufio keeps the first error
		return werr
	}
	werr = f.Chmod(0o600) // an existing file keeps its mode otherwise
	err = werr
	if err == nil {
		err = write(header)
	}
	if err == nil {
		err = rows(write)
	}
	if err == nil {
		err = w.Flush()
		werr = err
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err, werr = cerr, cerr
	}
	if err == nil {
		return nil
	}
	os.Remove(path)
	if werr != nil {
		return exportError(werr)
	}
	return err
}

func exportError(err error) error {
	return &UIError{Code: "internal", Message: fmt.Sprintf("export: %v", err)}
}

// csvSeparators are the characters a spreadsheet may split a line on: the
// comma, the semicolon (the default in many European locales), the tab, and
// line ends. encoding/csv quotes only for the comma, so a field such as
// "Work laptop;=cmd|' /C calc'!A0" went out bare and became a formula in a
// spreadsheet that splits on ";".
const csvSeparators = ",;\t\r\n"

// csvField neutralizes s and quotes it when it holds a separator, a quote,
// or edge spaces (which some spreadsheets trim, moving a formula character
// to the front).
func csvField(s string) string {
	s = neutralize(s)
	if s == "" || (!strings.ContainsAny(s, csvSeparators+`"`) && strings.TrimSpace(s) == s) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// formulaStarts are the characters that make a spreadsheet read a cell as a
// formula (or, for tab and CR, strip them and look at what follows).
const formulaStarts = "=+-@\t\r"

// neutralize keeps a spreadsheet from running any part of a cell as a
// formula (a user agent, a device name or a reason is attacker-controlled
// text): it puts an apostrophe, which spreadsheets read as "this is text",
// before a formula character at the start of the cell and at the start of
// every piece a separator could cut the cell into, spaces skipped.
func neutralize(s string) string {
	var b strings.Builder
	atStart := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if atStart && c == ' ' {
			b.WriteByte(c)
			continue
		}
		if atStart && strings.IndexByte(formulaStarts, c) >= 0 {
			b.WriteByte('\'')
		}
		b.WriteByte(c)
		atStart = strings.IndexByte(csvSeparators, c) >= 0
	}
	return b.String()
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func tsp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ts(*t)
}

var sessionsCSV = csvLayout[domain.Session]{
	header: []string{"id", "user_email", "user_name", "client", "ip", "location", "created_at", "last_active_at", "expires_at", "status", "terminated_at", "mfa", "current", "user_agent"},
	record: func(s domain.Session) []string {
		return []string{s.ID, s.User.Email, s.User.Name, s.Client, s.IP, s.Location, ts(s.CreatedAt), ts(s.LastActiveAt), ts(s.ExpiresAt),
			s.Status, tsp(s.TerminatedAt), strconv.FormatBool(s.MFA), strconv.FormatBool(s.Current), s.UserAgent}
	},
}

var devicesCSV = csvLayout[domain.Device]{
	header: []string{"id", "name", "platform", "user_email", "user_name", "trusted", "trusted_at", "first_seen_at", "last_seen_at", "last_ip"},
	record: func(d domain.Device) []string {
		return []string{d.ID, d.Name, d.Platform, d.User.Email, d.User.Name, strconv.FormatBool(d.Trusted), tsp(d.TrustedAt),
			ts(d.FirstSeenAt), ts(d.LastSeenAt), d.LastIP}
	},
}
