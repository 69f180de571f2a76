package domain

import (
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// fill sets every string field reachable from v (through structs and
// pointers) to a fresh copy of its name, so that two filled rows hold
// equal values in separate memory.
func fill(t *testing.T, v reflect.Value, name string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(string([]byte(name)))
	case reflect.Pointer:
		if v.Type().Elem() == reflect.TypeFor[time.Time]() {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), name)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i), name+"."+v.Type().Field(i).Name)
		}
	}
}

// shared lists the string fields of a and b (same type) that share memory.
func shared(a, b reflect.Value, name string, out map[string]bool) {
	switch a.Kind() {
	case reflect.String:
		out[name] = unsafe.StringData(a.String()) == unsafe.StringData(b.String())
	case reflect.Pointer:
		if !a.IsNil() && a.Type().Elem() != reflect.TypeFor[time.Time]() {
			shared(a.Elem(), b.Elem(), name, out)
		}
	case reflect.Struct:
		for i := range a.NumField() {
			shared(a.Field(i), b.Field(i), name+"."+a.Type().Field(i).Name, out)
		}
	}
}

// TestInternerSharesEveryRepeatedField fails when a domain type gains a
// string field that the Interner neither shares nor names as the row's own:
// a new field must be a decision, not a silent copy per row.
func TestInternerSharesEveryRepeatedField(t *testing.T) {
	own := map[string]bool{"Session.ID": true, "Session.IP": true, "Device.ID": true, "Device.LastIP": true}
	check := func(kind string, a, b reflect.Value, intern func()) {
		fill(t, a, kind)
		fill(t, b, kind)
		intern()
		got := map[string]bool{}
		shared(a, b, kind, got)
		if len(got) == 0 {
			t.Fatalf("%s: no string fields found", kind)
		}
		for f, same := range got {
			if same == own[f] {
				t.Errorf("%s: shared %v, want %v", f, same, !own[f])
			}
		}
	}
	in := NewInterner()
	ss := make([]Session, 2)
	check("Session", reflect.ValueOf(&ss[0]).Elem(), reflect.ValueOf(&ss[1]).Elem(), func() { in.Sessions(ss) })
	if ss[0].DeviceID != ss[1].DeviceID {
		t.Error("equal device ids: the pointer is not shared")
	}
	ds := make([]Device, 2)
	check("Device", reflect.ValueOf(&ds[0]).Elem(), reflect.ValueOf(&ds[1]).Elem(), func() { in.Devices(ds) })
}

// TestInternerKeepsValues checks that interning changes no value, also
// when a person's id comes back with other fields (a renamed person).
func TestInternerKeepsValues(t *testing.T) {
	dev := "dev_1"
	rows := []Session{
		{ID: "s1", User: Person{ID: "u1", Email: "a@x", Name: "A"}, DeviceID: &dev, Status: StatusActive, Client: "Firefox"},
		{ID: "s2", User: Person{ID: "u1", Email: "a@x", Name: "A Renamed"}, Status: "odd", TerminatedBy: &Person{ID: "u2", Email: "b@x", Name: "B"}},
	}
	want := []Session{rows[0], rows[1]}
	tb := *rows[1].TerminatedBy
	NewInterner().Sessions(rows)
	if !reflect.DeepEqual(rows[0], want[0]) || rows[1].User != want[1].User || rows[1].Status != "odd" || *rows[1].TerminatedBy != tb || rows[1].DeviceID != nil {
		t.Errorf("interning changed values: %+v", rows)
	}
}
