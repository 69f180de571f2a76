// Package useragent turns a User-Agent header into the short label people
// recognize, such as "Firefox 133 on Windows". It knows the handful of
// browsers and operating systems security staff meet in practice (Firefox,
// Chrome, Edge, Safari, the Sessions Desk app; Windows, macOS, Linux, iOS,
// Android) and falls back to "Unknown client" rather than guessing.
package useragent

import (
	"strings"
)

// Info is what a User-Agent header tells about its client.
type Info struct {
	Browser string // "Firefox", "Chrome", "Edge", "Safari", "Sessions Desk" or ""
	Version string // major version, or ""
	OS      string // "Windows", "macOS", "Linux", "iOS", "Android" or ""
}

// Label is "Browser Version on OS", leaving out what is unknown.
func (i Info) Label() string {
	b := i.Browser
	if b == "" {
		b = "Unknown client"
	} else if i.Version != "" {
		b += " " + i.Version
	}
	if i.OS == "" {
		return b
	}
	return b + " on " + i.OS
}

// DeviceName is "Browser on OS" without the version, which changes with
// every update while the device stays the same.
func (i Info) DeviceName() string {
	b := i.Browser
	if b == "" {
		b = "Unknown client"
	}
	if i.OS == "" {
		return b
	}
	return b + " on " + i.OS
}

// Parse reads a User-Agent header.
func Parse(ua string) Info {
	var i Info
	switch {
	case strings.Contains(ua, "SessionsDesk/") || strings.Contains(ua, "Sessions Desk/"):
		i.Browser, i.Version = "Sessions Desk", version(ua, "SessionsDesk/", "Sessions Desk/")
	case strings.Contains(ua, "Edg/") || strings.Contains(ua, "EdgA/") || strings.Contains(ua, "EdgiOS/"):
		i.Browser, i.Version = "Edge", version(ua, "Edg/", "EdgA/", "EdgiOS/")
	case strings.Contains(ua, "Firefox/") || strings.Contains(ua, "FxiOS/"):
		i.Browser, i.Version = "Firefox", version(ua, "Firefox/", "FxiOS/")
	case strings.Contains(ua, "Chrome/") || strings.Contains(ua, "CriOS/"):
		i.Browser, i.Version = "Chrome", version(ua, "Chrome/", "CriOS/")
	case strings.Contains(ua, "Safari/") && strings.Contains(ua, "Version/"):
		i.Browser, i.Version = "Safari", version(ua, "Version/")
	}
	switch {
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad") || strings.Contains(ua, "iPod"):
		i.OS = "iOS"
	case strings.Contains(ua, "Android"):
		i.OS = "Android"
	case strings.Contains(ua, "Windows"):
		i.OS = "Windows"
	case strings.Contains(ua, "Mac OS X") || strings.Contains(ua, "Macintosh"):
		i.OS = "macOS"
	case strings.Contains(ua, "Linux") || strings.Contains(ua, "X11"):
		i.OS = "Linux"
	}
	return i
}

// version returns the major version following the first marker found.
func version(ua string, markers ...string) string {
	for _, m := range markers {
		_, rest, ok := strings.Cut(ua, m)
		if !ok {
			continue
		}
		end := 0
		for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' && end < 6 {
			end++
		}
		return rest[:end]
	}
	return ""
}
