package settings_test

import (
	"os"
	"testing"
	"time"

	"sessiondesk/app/settings"
)

func TestSaveLoadBoundsAndMode(t *testing.T) {
	dir := t.TempDir()
	def := settings.Defaults(14*24*time.Hour, 30*time.Second)
	st, err := settings.Open(dir, def)
	if err != nil {
		t.Fatal(err)
	}
	if got, saved := st.Load(); saved || got != def || !got.Notifications || got.RetentionDays != 14 || got.SyncIntervalSeconds != 30 {
		t.Fatalf("defaults: %+v", got)
	}
	v := def
	v.RetentionDays, v.SharedWorkstation, v.TimeStyle, v.TimeZone = 3, true, settings.TimeExact, settings.ZoneUTC
	if err := st.Save(v); err != nil {
		t.Fatal(err)
	}
	again, _ := settings.Open(dir, def)
	if got, saved := again.Load(); !saved || got != v {
		t.Fatalf("after save: %+v, want %+v", got, v)
	}
	fi, err := os.Stat(st.Path())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode().Perm(), err)
	}
	for _, bad := range []settings.Settings{
		{RetentionDays: 0, SyncIntervalSeconds: 30, TimeStyle: "relative", TimeZone: "local"},
		{RetentionDays: 31, SyncIntervalSeconds: 30, TimeStyle: "relative", TimeZone: "local"},
		{RetentionDays: 7, SyncIntervalSeconds: 5, TimeStyle: "relative", TimeZone: "local"},
		{RetentionDays: 7, SyncIntervalSeconds: 7200, TimeStyle: "relative", TimeZone: "local"},
		{RetentionDays: 7, SyncIntervalSeconds: 30, TimeStyle: "fancy", TimeZone: "local"},
		{RetentionDays: 7, SyncIntervalSeconds: 30, TimeStyle: "exact", TimeZone: "mars"},
	} {
		if err := st.Save(bad); !settings.IsFieldError(err) {
			t.Errorf("Save(%+v) = %v, want a field error", bad, err)
		}
	}
	if got, _ := st.Load(); got != v {
		t.Fatalf("a refused save changed the file: %+v", got)
	}
	// A damaged file gives the defaults, not a failure.
	os.WriteFile(st.Path(), []byte("{not json"), 0o600)
	if got, saved := st.Load(); saved || got != def {
		t.Fatalf("damaged file: %+v", got)
	}
}
