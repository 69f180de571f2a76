package desk

import (
	"fmt"
	"strings"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
)

// maxFilterLen bounds a filter value from the UI.
const maxFilterLen = 200

// Unknown is the filter value that selects rows whose country or platform is
// not known ("" cannot: it means "do not filter").
const Unknown = "-"

// sessionFilter turns q's status and filters into the index query's filter
// part (KeepFacet, Keep, FilterKey, FilterAt, Clear). Filters that depend
// on the clock are judged anew each second, so a remembered result is at
// most a second stale: active carries the second in FilterAt (it only
// loses rows as time passes, so the next second's keystroke narrows the
// last second's result), expired in FilterKey (it gains rows).
func sessionFilter(q SessionQuery, now time.Time) (index.Query[domain.Session], error) {
	var iq index.Query[domain.Session]
	for _, v := range []string{q.UserID, q.Country, q.Platform, q.Browser} {
		if len(v) > maxFilterLen {
			return iq, errFilterTooLong()
		}
	}
	nowNano := now.UnixNano()
	second := now.Truncate(time.Second)
	switch q.Status {
	case "", domain.StatusActive:
		// Judged at the second, the instant FilterAt names: a keystroke of
		// the next second judges again only the rows due by then.
		at := second.UnixNano()
		iq.FilterKey, iq.FilterAt = "active", at
		iq.KeepFacet = func(f index.Key) bool { return index.ActiveFacet(f, at) }
		iq.Clear = cache.SessionFilter{ActiveAt: at}
	case "all":
		iq.FilterKey = "all"
		iq.Clear = cache.SessionFilter{}
	case domain.StatusExpired:
		iq.FilterKey = "expired@" + second.Format(time.RFC3339)
		iq.KeepFacet = func(f index.Key) bool {
			return f.Str == domain.StatusExpired || f.Str == domain.StatusActive && f.Num <= nowNano
		}
	case domain.StatusTerminated:
		iq.FilterKey = "terminated"
		iq.KeepFacet = func(f index.Key) bool { return f.Str == domain.StatusTerminated }
	default:
		return iq, &Error{Code: domain.KindInvalid, Message: "status must be active, all, expired or terminated"}
	}
	var keeps []func(*domain.Session) bool
	if q.UserID != "" {
		id := q.UserID
		keeps = append(keeps, func(s *domain.Session) bool { return s.User.ID == id })
	}
	switch q.MFA {
	case "":
	case "yes", "no":
		want := q.MFA == "yes"
		keeps = append(keeps, func(s *domain.Session) bool { return s.MFA == want })
	default:
		return iq, &Error{Code: domain.KindInvalid, Message: "mfa must be yes or no"}
	}
	if q.Country != "" {
		want := unknownAsEmpty(q.Country)
		keeps = append(keeps, func(s *domain.Session) bool { return index.Country(s.Location) == want })
	}
	if q.Platform != "" {
		want := unknownAsEmpty(q.Platform)
		keeps = append(keeps, func(s *domain.Session) bool { return index.ClientPlatform(s.Client) == want })
	}
	if q.Browser != "" {
		want := unknownAsEmpty(q.Browser)
		keeps = append(keeps, func(s *domain.Session) bool { return index.ClientBrowser(s.Client) == want })
	}
	if q.CreatedFrom != 0 || q.CreatedTo != 0 {
		if q.CreatedTo != 0 && q.CreatedTo < q.CreatedFrom {
			return iq, &Error{Code: domain.KindInvalid, Message: "createdTo is before createdFrom"}
		}
		from, to := q.CreatedFrom*int64(time.Millisecond), q.CreatedTo*int64(time.Millisecond)
		keeps = append(keeps, func(s *domain.Session) bool {
			c := s.CreatedAt.UnixNano()
			return c >= from && (to == 0 || c < to)
		})
	}
	if len(keeps) > 0 {
		iq.Keep = all(keeps)
		// Filter values are bounded and joined with a byte no value has.
		iq.FilterKey += strings.Join([]string{"", q.UserID, q.MFA, q.Country, q.Platform, q.Browser,
			fmt.Sprint(q.CreatedFrom), fmt.Sprint(q.CreatedTo)}, "\x01")
		// The cache's SQL window knows only status filters.
		iq.Clear = nil
	}
	return iq, nil
}

// all keeps a row that every one of keeps keeps.
func all[T any](keeps []func(*T) bool) func(*T) bool {
	return func(x *T) bool {
		for _, k := range keeps {
			if !k(x) {
				return false
			}
		}
		return true
	}
}

func unknownAsEmpty(v string) string {
	if v == Unknown {
		return ""
	}
	return v
}

// deviceFilters adds q's v1.1 filters to a devices query.
func deviceFilters(iq index.Query[domain.Device], q DeviceQuery, now time.Time) (index.Query[domain.Device], error) {
	if len(q.UserID) > maxFilterLen || len(q.Platform) > maxFilterLen || len(q.DeviceID) > maxFilterLen {
		return iq, errFilterTooLong()
	}
	if q.FirstSeenHours < 0 || q.FirstSeenHours > 24*366 {
		return iq, &Error{Code: domain.KindInvalid, Message: "firstSeenHours must be from 0 to 8784"}
	}
	var keeps []func(*domain.Device) bool
	if q.DeviceID != "" {
		id := q.DeviceID
		keeps = append(keeps, func(d *domain.Device) bool { return d.ID == id })
	}
	if q.UserID != "" {
		id := q.UserID
		keeps = append(keeps, func(d *domain.Device) bool { return d.User.ID == id })
	}
	if q.Platform != "" {
		want := unknownAsEmpty(q.Platform)
		keeps = append(keeps, func(d *domain.Device) bool { return d.Platform == want })
	}
	key := ""
	if q.FirstSeenHours > 0 {
		since := now.Add(-time.Duration(q.FirstSeenHours) * time.Hour)
		keeps = append(keeps, func(d *domain.Device) bool { return d.FirstSeenAt.After(since) })
		key = now.Truncate(time.Second).Format(time.RFC3339)
	}
	if len(keeps) > 0 {
		iq.Keep = all(keeps)
		iq.FilterKey += strings.Join([]string{"", q.DeviceID, q.UserID, q.Platform, fmt.Sprint(q.FirstSeenHours), key}, "\x01")
	}
	return iq, nil
}
