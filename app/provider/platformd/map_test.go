package platformd

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/backend/api"
)

// fill sets every field of the value v points to, recursively, to a value
// that no other field of it has: strings and times distinct, bools true,
// pointers and slices present.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("v%d", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), n)
		fill(v.Index(1), n)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 1, 0, 0, *n, *n, time.UTC)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			fill(v.Field(i), n)
		}
	default:
		panic("fill: unexpected kind " + v.Kind().String())
	}
}

// zeroFields lists the fields of v left at their zero value, by path.
func zeroFields(v reflect.Value, path string) []string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return []string{path}
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct && v.Type() != reflect.TypeOf(time.Time{}) {
		var out []string
		for i := 0; i < v.NumField(); i++ {
			out = append(out, zeroFields(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
		return out
	}
	if v.IsZero() {
		return []string{path}
	}
	return nil
}

func asJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Every field of the wire types reaches the domain type, under the same
// JSON name (the UI's model and the cached identity keep their shape), and
// the domain type has no field the wire does not fill. A field added to
// backend/api, or to the domain, fails here until the mapping carries it.
func TestMappingCarriesEveryField(t *testing.T) {
	check := func(name string, wire any, mapped func() any) {
		t.Run(name, func(t *testing.T) {
			n := 0
			fill(reflect.ValueOf(wire).Elem(), &n)
			got := mapped()
			if z := zeroFields(reflect.ValueOf(got), name); len(z) > 0 {
				t.Errorf("domain fields the mapping leaves empty: %v", z)
			}
			w, d := asJSON(t, wire), asJSON(t, got)
			if !reflect.DeepEqual(w, d) {
				t.Errorf("wire and domain differ:\nwire   %v\ndomain %v", w, d)
			}
		})
	}
	var s api.Session
	check("Session", &s, func() any { return sessionOf(&s) })
	var d api.Device
	check("Device", &d, func() any { return deviceOf(&d) })
	var e api.AuditEvent
	check("AuditEvent", &e, func() any { return auditEventOf(&e) })
	var m api.Me
	check("Me", &m, func() any { return meOf(m) })
}

// The wire's empty values stay empty: nil pointers stay nil, and no
// pointer is shared with another row's (the mapping copies per row).
func TestMappingKeepsAbsentValuesAbsent(t *testing.T) {
	got := sessionOf(&api.Session{})
	if got.DeviceID != nil || got.TerminatedAt != nil || got.TerminatedBy != nil {
		t.Errorf("absent values became present: %+v", got)
	}
	e := auditEventOf(&api.AuditEvent{})
	if e.TargetID != nil || e.TargetUser != nil || e.TargetIDs != nil {
		t.Errorf("absent values became present: %+v", e)
	}
}

// The names and limits the app took over from the contract are the
// contract's: the UI's error codes, the statuses and actions the cache and
// the filters compare with, the permission names, and the batch and reason
// limits the platform enforces.
func TestDomainNamesAreTheContracts(t *testing.T) {
	pairs := []struct{ domain, wire any }{
		{domain.StatusActive, api.StatusActive}, {domain.StatusExpired, api.StatusExpired}, {domain.StatusTerminated, api.StatusTerminated},
		{domain.ActionSessionTerminate, api.ActionSessionTerminate}, {domain.ActionSessionsTerminateAll, api.ActionSessionsTerminateAll},
		{domain.ActionDeviceUntrust, api.ActionDeviceUntrust}, {domain.ActionUserPasswordReset, api.ActionUserPasswordReset},
		{domain.ActionUserTOTPReset, api.ActionUserTOTPReset}, {domain.ActionUserSessionsTerminate, api.ActionUserSessionsTerminate},
		{domain.ActionSessionsTerminateSelected, api.ActionSessionsTerminateSelected},
		{domain.PermSessionsView, api.PermSessionsView}, {domain.PermSessionsTerminateOrg, api.PermSessionsTerminateOrg},
		{domain.PermDevicesRevokeTrust, api.PermDevicesRevokeTrust},
		{domain.KindInvalid, api.CodeInvalidArgument}, {domain.KindUnauthenticated, api.CodeUnauthenticated},
		{domain.KindMFARequired, api.CodeMFARequired}, {domain.KindPermissionDenied, api.CodePermissionDenied},
		{domain.KindNotFound, api.CodeNotFound}, {domain.KindRateLimited, api.CodeRateLimited},
		{domain.KindUnavailable, api.CodeUnavailable}, {domain.KindInternal, api.CodeInternal},
		{domain.MaxSelected, api.MaxSelected}, {domain.MaxReasonLen, api.MaxReasonLen}, {domain.MaxTargetIDs, api.MaxTargetIDs},
		{domain.MaxPage, api.MaxLimit}, {domain.DefaultPage, api.DefaultLimit},
	}
	for _, p := range pairs {
		if p.domain != p.wire {
			t.Errorf("domain %v, contract %v", p.domain, p.wire)
		}
	}
}

// The sync's list pages decode the wire JSON straight into the domain
// types (listPage). With every field of every wire type set (and a row
// with every optional field absent), what they decode equals the explicit
// mapping of the same wire page, so the shortcut cannot lose or misplace a
// field the mapping carries.
func TestWirePagesDecodeAsMapped(t *testing.T) {
	n := 0
	var ss [2]api.Session
	var ds [2]api.Device
	var es [2]api.AuditEvent
	fill(reflect.ValueOf(&ss[0]).Elem(), &n)
	fill(reflect.ValueOf(&ds[0]).Elem(), &n)
	fill(reflect.ValueOf(&es[0]).Elem(), &n)
	cursor := "next-page"
	bodies := map[string]any{
		api.BasePath + "/sessions": api.SessionList{Items: ss[:], NextCursor: &cursor},
		api.BasePath + "/devices":  api.DeviceList{Items: ds[:]},
		api.BasePath + "/audit":    api.AuditList{Items: es[:], NextCursor: &cursor},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(bodies[r.URL.Path])
	}))
	defer srv.Close()
	c, err := New(srv.URL, httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, ctx := NewProvider(c.WithToken("t")), context.Background()

	sp, err := p.Sessions(ctx, domain.PageRequest{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := []domain.Session{sessionOf(&ss[0]), sessionOf(&ss[1])}; !reflect.DeepEqual(sp.Items, want) || sp.Next != cursor {
		t.Errorf("sessions decoded\n%+v\nmapped\n%+v (next %q)", sp.Items, want, sp.Next)
	}
	dp, err := p.Devices(ctx, domain.PageRequest{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := []domain.Device{deviceOf(&ds[0]), deviceOf(&ds[1])}; !reflect.DeepEqual(dp.Items, want) || dp.Next != "" {
		t.Errorf("devices decoded\n%+v\nmapped\n%+v (next %q)", dp.Items, want, dp.Next)
	}
	ap, err := p.Audit(ctx, domain.PageRequest{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	// JSON turns an empty target_ids into null either way; compare what
	// both decode from the same bytes.
	want := []domain.AuditEvent{auditEventOf(&es[0]), auditEventOf(&es[1])}
	if !reflect.DeepEqual(ap.Items, want) || ap.Next != cursor {
		t.Errorf("audit decoded\n%+v\nmapped\n%+v (next %q)", ap.Items, want, ap.Next)
	}
}
