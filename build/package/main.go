// Command package builds the Linux packages of Sessions Desk with nfpm used
// as a Go library: sessiondesk_<version>_amd64.deb (the desktop app) and
// platformd_<version>_amd64.deb (the platform service with its systemd unit).
// build/scripts/package.sh runs it after building the binaries:
//
//	cd build/package && go run . -root ../.. -version 1.2.0 -out ../../dist \
//	    -app ../../build/bin/sessiondesk -platformd ../../build/bin/platformd
//
// It is a module of its own (build/package/go.mod): nfpm brings ~40 modules
// (OpenPGP, rpm, msix, cobra, …) that neither the app nor platformd use, and
// keeping them out of the main go.mod keeps them out of `go vet ./...`,
// `go test ./...` and the app's dependency updates.
//
// The package contents are declared here in Go rather than in nfpm YAML:
// the file list is short, and this way the compiler checks it.
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

const (
	maintainer = "Sessions Desk engineers <engineers@sessiondesk.invalid>"
	vendor     = "Sessions Desk"
	homepage   = "https://sessiondesk.invalid/"
)

// appDepends are the Debian packages holding the shared libraries the app
// links (objdump -p build/bin/sessiondesk | grep NEEDED, then dpkg -S):
// WebKitGTK 4.1 and its JavaScriptCore, GTK 3/GDK, GdkPixbuf, GLib/GObject/GIO, libsoup
// 3 and libc. check-packages.sh checks that every NEEDED library of the built
// binary belongs to one of them, so a new one cannot slip by.
var appDepends = []string{
	"libwebkit2gtk-4.1-0",
	"libjavascriptcoregtk-4.1-0",
	"libgtk-3-0",
	"libgdk-pixbuf-2.0-0",
	"libglib2.0-0",
	"libsoup-3.0-0",
	"libc6",
}

// appRecommends: the keychain is the Secret Service on the D-Bus session bus
// (go-keyring speaks D-Bus itself, it links no libsecret), which
// gnome-keyring provides; without one the app keeps its secrets for the
// current run only. Notifications need a notification daemon, which every
// desktop has.
var appRecommends = []string{"gnome-keyring", "dbus-user-session | dbus-x11"}

// iconSizes are the hicolor sizes the 1024×1024 build/appicon.png is
// scaled to (each divides 1024, so a box filter scales it exactly).
var iconSizes = []int{32, 64, 128, 256, 512}

func main() {
	root := flag.String("root", "../..", "repository root")
	version := flag.String("version", "", "package version (build/scripts/lib.sh project_version)")
	out := flag.String("out", "../../dist", "output directory")
	app := flag.String("app", "", "the built sessiondesk binary")
	platformd := flag.String("platformd", "", "the built platformd binary")
	flag.Parse()
	if *version == "" || *app == "" || *platformd == "" {
		fmt.Fprintln(os.Stderr, "package: -version, -app and -platformd are required")
		os.Exit(2)
	}
	if err := run(*root, *version, *out, *app, *platformd); err != nil {
		fmt.Fprintln(os.Stderr, "package:", err)
		os.Exit(1)
	}
}

func run(root, version, out, app, platformd string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "sessiondesk-package-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	mtime := sourceDate()
	appInfo, err := appPackage(root, app, tmp)
	if err != nil {
		return err
	}
	for _, info := range []*nfpm.Info{appInfo, platformdPackage(root, platformd)} {
		info.Version, info.MTime = version, mtime
		path, err := writeDeb(info, out)
		if err != nil {
			return fmt.Errorf("%s: %w", info.Name, err)
		}
		fmt.Println(path)
	}
	return nil
}

// sourceDate is the time of every file in the archives: reproducible
// archives take the commit's (package.sh passes SOURCE_DATE_EPOCH), else
// now.
func sourceDate() time.Time {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		var sec int64
		if _, err := fmt.Sscan(s, &sec); err == nil {
			return time.Unix(sec, 0).UTC()
		}
	}
	return time.Now().UTC()
}

// packageInfo is what both packages share; run sets Version and MTime.
func packageInfo(name, description string, o nfpm.Overridables) *nfpm.Info {
	return &nfpm.Info{
		Name:         name,
		Arch:         "amd64",
		Platform:     "linux",
		Section:      "admin",
		Priority:     "optional",
		Maintainer:   maintainer,
		Vendor:       vendor,
		Homepage:     homepage,
		License:      "Proprietary",
		Description:  description,
		Overridables: o,
	}
}

// appPackage is the desk's package: the binary, its desktop entry and its
// icon at every size (scaled into tmp).
func appPackage(root, app, tmp string) (*nfpm.Info, error) {
	contents := files.Contents{
		file(app, "/usr/bin/sessiondesk", 0o755),
		file(filepath.Join(root, "build/linux/sessiondesk.desktop"), "/usr/share/applications/sessiondesk.desktop", 0o644),
	}
	icons, err := scaleIcon(filepath.Join(root, "build/appicon.png"), tmp)
	if err != nil {
		return nil, err
	}
	for size, path := range icons {
		contents = append(contents, file(path, fmt.Sprintf("/usr/share/icons/hicolor/%dx%d/apps/sessiondesk.png", size, size), 0o644))
	}
	return packageInfo("sessiondesk", "Watch and cut off an organization's login sessions and devices\n"+
		"Sessions Desk is the security team's desktop app for a Sessions Desk\n"+
		"platform: live lists of sign-in sessions and devices, one-click sign-out,\n"+
		"device trust, the audit log, and a notification when a new device signs in.",
		nfpm.Overridables{
			Depends:    appDepends,
			Recommends: appRecommends,
			Suggests:   []string{"platformd"},
			Contents:   contents,
		}), nil
}

// platformdPackage is the service's package: the binary, its systemd unit,
// its configuration and the scripts that make and remove its user.
func platformdPackage(root, platformd string) *nfpm.Info {
	dir := filepath.Join(root, "build/linux/platformd")
	return packageInfo("platformd", "Sessions Desk platform service\n"+
		"platformd keeps an organization's users, sign-in sessions and devices\n"+
		"(SQLite or PostgreSQL) and serves the Platform API to Sessions Desk.\n"+
		"This package runs it as a hardened systemd service under its own\n"+
		"system user; settings are in /etc/platformd/platformd.conf.",
		nfpm.Overridables{
			// adduser makes the system user in postinst; passwd's userdel
			// removes it on purge. platformd itself is static but for libc
			// (cgo SQLite).
			Depends: []string{"libc6", "adduser", "passwd"},
			Contents: files.Contents{
				file(platformd, "/usr/bin/platformd", 0o755),
				file(filepath.Join(dir, "platformd.service"), "/usr/lib/systemd/system/platformd.service", 0o644),
				{
					// A conffile: dpkg keeps the admin's edits on upgrade and
					// removes it only on purge. 0600: it may hold a password.
					Source: filepath.Join(dir, "platformd.conf"), Destination: "/etc/platformd/platformd.conf",
					Type: files.TypeConfig, FileInfo: &files.ContentFileInfo{Mode: 0o600},
				},
			},
			Scripts: nfpm.Scripts{
				PostInstall: filepath.Join(dir, "postinst"),
				PreRemove:   filepath.Join(dir, "prerm"),
				PostRemove:  filepath.Join(dir, "postrm"),
			},
		})
}

func file(src, dst string, mode os.FileMode) *files.Content {
	return &files.Content{Source: src, Destination: dst, FileInfo: &files.ContentFileInfo{Mode: mode}}
}

// writeDeb validates info the way nfpm's own CLI does and writes the .deb
// under its conventional name (name_version_arch.deb) into out.
func writeDeb(info *nfpm.Info, out string) (string, error) {
	info = nfpm.WithDefaults(info)
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return "", err
	}
	if err := nfpm.Validate(info); err != nil {
		return "", err
	}
	path := filepath.Join(out, deb.Default.ConventionalFileName(info))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := deb.Default.Package(info, f); err != nil {
		f.Close()
		os.Remove(path)
		return "", err
	}
	return path, f.Close()
}

// scaleIcon writes the app icon at each of iconSizes into dir and returns
// size → path. Each size divides the source's, so every pixel is the mean of
// a square block (in premultiplied colour, so transparent edges stay clean).
func scaleIcon(src, dir string) (map[int]string, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	b := img.Bounds()
	paths := map[int]string{}
	for _, size := range iconSizes {
		if b.Dx() != b.Dy() || b.Dx()%size != 0 {
			return nil, fmt.Errorf("%s is %dx%d; want a square whose side %d divides", src, b.Dx(), b.Dy(), size)
		}
		k := b.Dx() / size
		dst := image.NewNRGBA64(image.Rect(0, 0, size, size))
		for y := 0; y < size; y++ {
			for x := 0; x < size; x++ {
				var r, g, bl, a uint64
				for yy := 0; yy < k; yy++ {
					for xx := 0; xx < k; xx++ {
						pr, pg, pb, pa := img.At(b.Min.X+x*k+xx, b.Min.Y+y*k+yy).RGBA()
						r, g, bl, a = r+uint64(pr), g+uint64(pg), bl+uint64(pb), a+uint64(pa)
					}
				}
				n := uint64(k * k)
				dst.Set(x, y, color.RGBA64{R: uint16(r / n), G: uint16(g / n), B: uint16(bl / n), A: uint16(a / n)})
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("sessiondesk-%d.png", size))
		out, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		if err := png.Encode(out, dst); err != nil {
			out.Close()
			return nil, err
		}
		if err := out.Close(); err != nil {
			return nil, err
		}
		paths[size] = path
	}
	return paths, nil
}
