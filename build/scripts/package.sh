#!/usr/bin/env bash
# Builds the release artifacts of Sessions Desk into dist/ (gitignored):
#   sessiondesk_<version>_amd64.deb    the desktop app (nfpm, build/package)
#   platformd_<version>_amd64.deb      the platform service with its systemd unit
#   sessiondesk_<version>_windows_amd64_setup.exe
#                                      the app cross-compiled for Windows
#                                      (mingw-w64 for cgo) in an NSIS installer
#   SHA256SUMS                         of all of the above
# <version> is lib.sh's project_version: the git tag, else 0.0.0+<commit>.
# FRONTEND_BUILT=1 reuses the bindings and frontend/dist already built (as
# test.sh does); NO_WINDOWS=1 skips the Windows installer.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="$(project_version)"
export VERSION
# Every file in the archives gets the commit's time, so that two builds of
# one commit give the same .deb.
SOURCE_DATE_EPOCH="$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)"
export SOURCE_DATE_EPOCH
DIST="$ROOT/dist"

ensure_apt "${BUILD_PACKAGES[@]}"
[ "${NO_WINDOWS:-}" = 1 ] || ensure_apt gcc-mingw-w64-x86-64 nsis
ensure_wails
if [ "${FRONTEND_BUILT:-}" != 1 ]; then
  ensure_node_modules
  generate_bindings
  build_frontend
fi
rm -rf "$DIST"
mkdir -p "$DIST"

build_app_binary
build_platformd

if [ "${NO_WINDOWS:-}" != 1 ]; then
  # Wails writes wails.json's productVersion into the exe's version resource
  # and the installer's, which Windows wants as plain numbers (x.y.z): set it
  # to this build's release part (1.2.0, or 0.0.0 untagged) for the build
  # only. build/windows/ is Wails' generated Windows assets (gitignored).
  numeric="${VERSION%%[+~-]*}"
  cp "$ROOT/wails.json" "$DIST/.wails.json.orig"
  trap 'mv -f "$DIST/.wails.json.orig" "$ROOT/wails.json"' EXIT
  sed -i "s/\"productVersion\": *\"[^\"]*\"/\"productVersion\": \"$numeric\"/" "$ROOT/wails.json"
  # Wails leaves CGO_ENABLED to the environment for Windows, and Go turns cgo
  # off when cross-compiling: go-sqlite3 needs it, with mingw-w64 as CC.
  say "cross-compiling the app for Windows and packing the NSIS installer (wails build -platform windows/amd64 -nsis)"
  start=$SECONDS
  (cd "$ROOT" && CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++ "$WAILS" build -platform windows/amd64 -nsis \
    -s -m -skipbindings -nosyncgomod -o sessiondesk.exe -ldflags "$(version_ldflags)" >/dev/null)
  mv -f "$DIST/.wails.json.orig" "$ROOT/wails.json"
  trap - EXIT
  # Beyond the app: every package compiles for Windows, so Linux-only code
  # (D-Bus, the parent-death signal) stays behind build tags.
  (cd "$ROOT" && CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc GOOS=windows GOARCH=amd64 go build ./...)
  say "Windows build took $((SECONDS - start))s"
  cp "$ROOT/build/bin/Sessions Desk-amd64-installer.exe" "$DIST/sessiondesk_${VERSION}_windows_amd64_setup.exe"
fi

say "packing the .deb files with nfpm (build/package)"
(cd "$ROOT/build/package" && go run . -root "$ROOT" -version "$VERSION" -out "$DIST" \
  -app "$ROOT/build/bin/sessiondesk" -platformd "$ROOT/build/bin/platformd" >/dev/null)

(cd "$DIST" && shopt -s nullglob && sha256sum -- *.deb *.exe >SHA256SUMS)
say "dist/ holds, for version $VERSION:"
(cd "$DIST" && ls -l --time-style=+ -- * | awk '{print "    " $5 "\t" $NF}')
