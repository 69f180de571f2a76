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

// exportCSV asks for a path and writes records there with mode 0600: the file
// holds staff names, e-mail addresses and IPs.
func exportCSV(d Dialogs, title, name string, records [][]string) (string, error) {
	path, err := d.SaveFile(title, name)
	if err != nil {
		return "", &UIError{Code: "internal", Message: "The save dialog failed: " + err.Error()}
	}
	if path == "" {
		return "", nil
	}
	if err := writeCSV(path, records); err != nil {
		return "", &UIError{Code: "internal", Message: err.Error()}
	}
	return path, nil
}

func writeCSV(path string, records [][]string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := f.Chmod(0o600); err != nil { // an existing file keeps its mode otherwise
		f.Close()
		return fmt.Errorf("export: %w", err)
	}
	w := bufio.NewWriter(f)
	for _, r := range records {
		for i, cell := range r {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(csvField(cell))
		}
		w.WriteString("\r\n")
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("export: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
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

func sessionsCSV(rows []domain.Session) [][]string {
	out := [][]string{{"id", "user_email", "user_name", "client", "ip", "location", "created_at", "last_active_at", "expires_at", "status", "terminated_at", "mfa", "current", "user_agent"}}
	for _, s := range rows {
		out = append(out, []string{s.ID, s.User.Email, s.User.Name, s.Client, s.IP, s.Location, ts(s.CreatedAt), ts(s.LastActiveAt), ts(s.ExpiresAt),
			s.Status, tsp(s.TerminatedAt), strconv.FormatBool(s.MFA), strconv.FormatBool(s.Current), s.UserAgent})
	}
	return out
}

func devicesCSV(rows []domain.Device) [][]string {
	out := [][]string{{"id", "name", "platform", "user_email", "user_name", "trusted", "trusted_at", "first_seen_at", "last_seen_at", "last_ip"}}
	for _, d := range rows {
		out = append(out, []string{d.ID, d.Name, d.Platform, d.User.Email, d.User.Name, strconv.FormatBool(d.Trusted), tsp(d.TrustedAt),
			ts(d.FirstSeenAt), ts(d.LastSeenAt), d.LastIP})
	}
	return out
}
