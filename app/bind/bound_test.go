package bind_test

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"testing"
	"time"

	"sessiondesk/app/bind"
)

// Wails binds every exported method of every bound value, and the page can
// call each one. The page's one door to them is frontend/src/lib/api.ts:
// a bound method it never calls is a method the page should not have (a
// lifecycle hook, a helper), and a call to a method that is not bound
// breaks at run time.
func TestOnlyUIMethodsAreBound(t *testing.T) {
	bound := map[string]bool{}
	for _, svc := range bind.NewServices(nil, "test", time.Time{}).Bound() {
		typ := reflect.TypeOf(svc)
		for i := range typ.NumMethod() {
			bound[typ.Elem().Name()+"."+typ.Method(i).Name] = true
		}
	}
	src, err := os.ReadFile("../../frontend/src/lib/api.ts")
	if err != nil {
		t.Fatal(err)
	}
	called := map[string]bool{}
	for _, m := range regexp.MustCompile(`\b([A-Z]\w*Service)\.([A-Z]\w*)\b`).FindAllStringSubmatch(string(src), -1) {
		called[m[1]+"."+m[2]] = true
	}
	if len(called) == 0 {
		t.Fatal("found no bound calls in api.ts: has its import style changed?")
	}
	var extra, missing []string
	for m := range bound {
		if !called[m] {
			extra = append(extra, m)
		}
	}
	for m := range called {
		if !bound[m] {
			missing = append(missing, m)
		}
	}
	slices.Sort(extra)
	slices.Sort(missing)
	if len(extra) > 0 {
		t.Errorf("bound but never called by the page (unexport them, or call them from api.ts): %v", extra)
	}
	if len(missing) > 0 {
		t.Errorf("called by api.ts but not bound: %v", missing)
	}
}
