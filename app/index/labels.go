package index

import "strings"

// The platform labels a session's client "Browser Version on OS" (see
// backend/useragent) and its place "City, CC". Filters and the overview
// group by the parts; these split them without a second parser of user
// agents on the app side.

// ClientPlatform is the OS part of a client label ("Windows" of "Firefox 133
// on Windows"); "" when the label names none.
func ClientPlatform(client string) string {
	if i := strings.LastIndex(client, " on "); i >= 0 {
		return client[i+len(" on "):]
	}
	return ""
}

// ClientBrowser is the browser part of a client label without its version
// ("Firefox" of "Firefox 133 on Windows").
func ClientBrowser(client string) string {
	b := client
	if i := strings.LastIndex(b, " on "); i >= 0 {
		b = b[:i]
	}
	if i := strings.LastIndexByte(b, ' '); i > 0 && isVersion(b[i+1:]) {
		b = b[:i]
	}
	return b
}

func isVersion(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

// Country is the country code of a location ("DE" of "Berlin, DE"); ""
// when the location is unknown.
func Country(location string) string {
	if i := strings.LastIndex(location, ", "); i >= 0 {
		return location[i+2:]
	}
	return location
}
