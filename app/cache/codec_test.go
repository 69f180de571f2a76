package cache

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/internal/fieldcount"
)

// The binary codec must carry every field of the api types: a field added
// there and not here fails this test instead of vanishing from the cache.
func TestCodecCoversEveryField(t *testing.T) {
	fieldcount.Check(t, "codec.go", map[reflect.Type]int{
		reflect.TypeFor[domain.Session](): 16, reflect.TypeFor[domain.Device](): 10,
		reflect.TypeFor[domain.AuditEvent](): 10, reflect.TypeFor[domain.Person](): 3,
	})
	at := time.Date(2026, 11, 27, 8, 30, 1, 123456789, time.UTC)
	later := at.Add(90 * time.Minute).In(time.FixedZone("", 2*3600))
	dev, target := "dev_1", "ses_9"
	by := domain.Person{ID: "usr_2", Email: "boss@x.test", Name: "Boss"}
	sessions := []domain.Session{
		{ID: "ses_1", User: domain.Person{ID: "usr_1", Email: "a@x.test", Name: "Ä b"}, DeviceID: &dev, IP: "2001:db8::1",
			UserAgent: "UA", Client: "Firefox", Location: "Oslo, NO", CreatedAt: at, LastActiveAt: later, ExpiresAt: at.Add(time.Hour),
			UpdatedAt: at, Status: domain.StatusTerminated, TerminatedAt: &later, TerminatedBy: &by, MFA: true, Current: true},
		{ID: "ses_2"}, // zero times, nil pointers, empty strings
	}
	for _, s := range sessions {
		var got domain.Session
		if err := decodeSession(string(encodeSession(nil, &s)), &got); err != nil || !reflect.DeepEqual(got, s) {
			t.Errorf("session round trip: %v\n got %+v\nwant %+v", err, got, s)
		}
	}
	d := domain.Device{ID: "dev_1", User: by, Name: "Laptop", Platform: "Linux", Trusted: true, TrustedAt: &at,
		FirstSeenAt: at, LastSeenAt: later, LastIP: "10.0.0.1", UpdatedAt: at}
	var gd domain.Device
	if err := decodeDevice(string(encodeDevice(nil, &d)), &gd); err != nil || !reflect.DeepEqual(gd, d) {
		t.Errorf("device round trip: %v\n got %+v\nwant %+v", err, gd, d)
	}
	for _, e := range []domain.AuditEvent{
		{ID: "aud_1", At: at, Actor: by, Action: domain.ActionSessionTerminate, TargetID: &target, Count: -3, Reason: "r",
			TargetUser: &domain.Person{ID: "usr_t", Email: "t@x.test", Name: "T"}, TargetLabel: "Firefox on Linux, 10.0.0.1"},
		{ID: "aud_2", At: at, Actor: by, Action: domain.ActionSessionsTerminateAll},
		{ID: "aud_4", At: at, Actor: by, Action: domain.ActionSessionsTerminateSelected, Count: 3,
			TargetIDs: []string{"ses_1", "ses_2", "ses_ü"}},
	} {
		var ge domain.AuditEvent
		if err := decodeAudit(string(encodeAudit(nil, &e)), &ge); err != nil || !reflect.DeepEqual(ge, e) {
			t.Errorf("audit round trip: %v\n got %+v\nwant %+v", err, ge, e)
		}
	}
	// Audit rows sealed by older builds still open: before v1.2 (no
	// target_ids: the row ends after the label) and before v1.1 (no target
	// user and label either).
	v11 := domain.AuditEvent{ID: "aud_3", At: at, Actor: by, Action: domain.ActionSessionTerminate, TargetID: &target, Count: 1, Reason: "old",
		TargetUser: &by, TargetLabel: "Firefox on Linux, 10.0.0.1"}
	full := encodeAudit(nil, &v11)
	var g11 domain.AuditEvent
	if err := decodeAudit(string(full[:len(full)-1]), &g11); err != nil || !reflect.DeepEqual(g11, v11) {
		t.Errorf("v1.1 audit row: %v %+v", err, g11)
	}
	pre := domain.AuditEvent{ID: "aud_3", At: at, Actor: by, Action: domain.ActionDeviceUntrust, TargetID: &target, Count: 1, Reason: "old"}
	full = encodeAudit(nil, &pre)
	var gp domain.AuditEvent
	if err := decodeAudit(string(full[:len(full)-3]), &gp); err != nil || !reflect.DeepEqual(gp, pre) {
		t.Errorf("pre-v1.1 audit row: %v %+v", err, gp)
	}
	// A damaged count of target ids is an error, not an allocation.
	bad := append(encodeAudit(nil, &pre)[:len(full)-1], 0xff, 0xff, 0xff, 0xff, 0x0f)
	if err := decodeAudit(string(bad), &domain.AuditEvent{}); err == nil {
		t.Error("an audit row claiming 4 billion target ids decoded")
	}
	// Truncated audit rows too.
	ab := encodeAudit(nil, &domain.AuditEvent{ID: "aud_5", TargetIDs: []string{"ses_1", "ses_2"}})
	for n := len(ab) - 6; n < len(ab); n++ {
		if err := decodeAudit(string(ab[:n]), &domain.AuditEvent{}); err == nil {
			t.Errorf("decoding %d of %d bytes of an audit row succeeded", n, len(ab))
		}
	}
	// Truncated input is an error, never a panic.
	b := encodeSession(nil, &sessions[0])
	for n := 1; n < len(b); n++ {
		var s domain.Session
		if err := decodeSession(string(b[:n]), &s); err == nil {
			t.Fatalf("decoding %d of %d bytes succeeded", n, len(b))
		}
	}
}

// Rows sealed as JSON by an older build still open.
func TestJSONRowsStillOpen(t *testing.T) {
	st, _, err := Open(t.Context(), Options{Profile: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Now().UTC().Truncate(time.Second)
	old := domain.Session{ID: "ses_old", User: domain.Person{Email: "old@x.test"}, Status: domain.StatusActive, CreatedAt: at, LastActiveAt: at, ExpiresAt: at.Add(time.Hour), UpdatedAt: at}
	if _, err := st.Apply(t.Context(), Snapshot{Full: true, Complete: true, Sessions: []domain.Session{old, {ID: "ses_new", Status: domain.StatusActive, ExpiresAt: at.Add(time.Hour)}}}); err != nil {
		t.Fatal(err)
	}
	legacy, err := st.seal.seal("session", old.ID, old) // the v1 format: JSON
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.conn().Exec("UPDATE sessions SET sealed = ? WHERE id = ?", legacy, old.ID); err != nil {
		t.Fatal(err)
	}
	got, err := st.Sessions(t.Context())
	if err != nil || len(got) != 2 {
		t.Fatalf("sessions: %v %v", got, err)
	}
	for _, s := range got {
		if s.ID == old.ID {
			j1, _ := json.Marshal(s)
			j2, _ := json.Marshal(old)
			if string(j1) != string(j2) {
				t.Fatalf("legacy row: %s, want %s", j1, j2)
			}
		}
	}
}
