package notify

import (
	"strings"
	"testing"

	"sessiondesk/app/domain"
)

// On Windows the text goes into a CDATA section of the toast XML
// (toast_windows.go): a name holding "]]>" must not end it, and nothing may
// be entity-escaped there, since CDATA would show "&amp;" as it is.
func TestToastTextStaysInCDATA(t *testing.T) {
	d := domain.Device{ID: "d", Name: "x]]><toast launch=\"evil:\">]]", User: domain.Person{Name: "A & B <c>", Email: "a@b.test"}}
	summary, body := newDeviceText(d, "]]]>>")
	body, summary = cdata(body), cdata(summary)
	if strings.Contains(body, "]]>") || strings.Contains(summary, "]]>") {
		t.Fatalf("CDATA end survives: %q", body)
	}
	if !strings.Contains(body, "A & B <c>") || strings.Contains(body, "&amp;") {
		t.Fatalf("toast text is escaped for markup: %q", body)
	}
	_, many := newDevicesText([]domain.Device{d, d})
	if strings.Contains(cdata(many), "]]>") {
		t.Fatalf("CDATA end survives in the summary: %q", many)
	}
}
