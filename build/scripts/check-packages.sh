#!/usr/bin/env bash
# Checks the packages in dist/ (built by package.sh) the way their users meet
# them, on this machine, as root:
#   - dpkg-deb --info/--contents list the expected metadata and files, every
#     shared library the app links belongs to a package it Depends on, and
#     SHA256SUMS matches;
#   - `apt-get install ./dist/sessiondesk_….deb` installs, and the installed
#     /usr/bin/sessiondesk starts under Xvfb (private D-Bus with gnome-keyring,
#     HOME in a temporary directory) on the demo platform and signs in;
#   - `apt-get install ./dist/platformd_….deb` installs, makes its system user
#     and state directory, and `platformd serve` started with the installed
#     unit's own ExecStart line and the installed config answers /healthz.
#     systemd does not run as PID 1 on this machine (a container), so the
#     ExecStart line is run directly, as the unit's user, with the config read
#     the way systemd reads an EnvironmentFile; `systemd-analyze verify`
#     checks the unit file itself;
#   - `apt-get purge` removes both and leaves nothing of them: no file of
#     theirs, no /etc/platformd, no state directory, no platformd user/group.
# SCREENSHOT=FILE also saves a PNG of the installed app's window.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "check-packages: installs packages; run it as root (CI does)" >&2; exit 1; }
ensure_apt "${HEADLESS_PACKAGES[@]}" curl file imagemagick desktop-file-utils 7zip
VERSION="$(project_version)"
DIST="$ROOT/dist"
APP_DEB="$DIST/sessiondesk_${VERSION}_amd64.deb"
PD_DEB="$DIST/platformd_${VERSION}_amd64.deb"
WIN_SETUP="$DIST/sessiondesk_${VERSION}_windows_amd64_setup.exe"
WORK="$(mktemp -d)"

fail() {
  echo "check-packages: FAIL: $*" >&2
  exit 1
}
# has TEXT PATTERN…: every extended regular expression matches a line of TEXT.
has() {
  local text="$1" p
  shift
  for p in "$@"; do
    grep -Eq -- "$p" <<<"$text" || fail "no line matches /$p/ in:
$text"
  done
}
# The dpkg lock may be held by another apt run on a shared machine: wait.
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -qq "$@"; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
cleanup() {
  local rc=$?
  [ -n "${PD_PID:-}" ] && kill "$PD_PID" 2>/dev/null
  for p in sessiondesk platformd; do
    if dpkg-query -W "$p" >/dev/null 2>&1; then apt_get purge "$p" >/dev/null 2>&1 || true; fi
  done
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

for f in "$APP_DEB" "$PD_DEB" "$WIN_SETUP" "$DIST/SHA256SUMS"; do
  [ -f "$f" ] || fail "$f is missing: run build/scripts/package.sh first"
done
for p in sessiondesk platformd; do
  ! dpkg-query -W "$p" >/dev/null 2>&1 || fail "$p is already installed here; remove it first (apt-get purge $p)"
done

say "checking dist/: SHA256SUMS, the Windows installer"
(cd "$DIST" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match dist/"
[ "$(wc -l <"$DIST/SHA256SUMS")" -eq "$(find "$DIST" -maxdepth 1 -type f ! -name SHA256SUMS | wc -l)" ] \
  || fail "SHA256SUMS does not list every file of dist/"
has "$(file -b "$WIN_SETUP")" '^PE32 executable \(GUI\).*MS Windows, Nullsoft Installer'
# The installer cannot run here; what it would install can be unpacked: the
# 64-bit GUI app carrying this version, and the WebView2 bootstrapper.
has "$(7zz l "$WIN_SETUP")" ' Sessions Desk\.exe$' ' \$PLUGINSDIR/webview2bootstrapper/MicrosoftEdgeWebview2Setup\.exe$' ' uninstall\.exe$'
7zz e -so "$WIN_SETUP" 'Sessions Desk.exe' >"$WORK/win.exe" 2>/dev/null
has "$(file -b "$WORK/win.exe")" '^PE32\+ executable \(GUI\) x86-64.*MS Windows'
grep -aqF "$VERSION" "$WORK/win.exe" || fail "the Windows app does not carry version $VERSION"

say "checking the metadata and contents of the .deb files (dpkg-deb --info, --contents)"
info="$(dpkg-deb --info "$APP_DEB")"
has "$info" '^ Package: sessiondesk$' "^ Version: ${VERSION//+/\\+}$" '^ Architecture: amd64$' \
  '^ Depends: .*libwebkit2gtk-4\.1-0' '^ Depends: .*libgtk-3-0' '^ Recommends: .*gnome-keyring'
contents="$(dpkg-deb --contents "$APP_DEB")"
has "$contents" '^-rwxr-xr-x root/root .* \./usr/bin/sessiondesk$' \
  ' \./usr/share/applications/sessiondesk\.desktop$' \
  ' \./usr/share/icons/hicolor/256x256/apps/sessiondesk\.png$' \
  ' \./usr/share/icons/hicolor/512x512/apps/sessiondesk\.png$'
# Every library the binary links must come from a package it Depends on.
depends="$(dpkg-deb -f "$APP_DEB" Depends)"
dpkg-deb -x "$APP_DEB" "$WORK/app"
for lib in $(objdump -p "$WORK/app/usr/bin/sessiondesk" | awk '/NEEDED/ {print $2}'); do
  owner="$(dpkg -S "*/$lib" 2>/dev/null | grep -v -- '-dev' | head -1 | cut -d: -f1)"
  [ -n "$owner" ] || fail "no installed package holds $lib"
  grep -Eq "(^|, )$owner( |,|$)" <<<"$depends" || fail "sessiondesk links $lib of $owner, which Depends ($depends) lacks"
done
[ "$("$WORK/app/usr/bin/sessiondesk" -version)" = "sessiondesk $VERSION" ] || fail "packaged sessiondesk -version is not $VERSION"
desktop-file-validate "$WORK/app/usr/share/applications/sessiondesk.desktop" || fail "the .desktop entry is not valid"

info="$(dpkg-deb --info "$PD_DEB")"
has "$info" '^ Package: platformd$' "^ Version: ${VERSION//+/\\+}$" '^ Depends: .*adduser' \
  ' conffiles' ' postinst' ' postrm' ' prerm'
has "$(dpkg-deb -I "$PD_DEB" conffiles)" '^/etc/platformd/platformd\.conf$'
contents="$(dpkg-deb --contents "$PD_DEB")"
has "$contents" '^-rwxr-xr-x root/root .* \./usr/bin/platformd$' \
  '^-rw-r--r-- root/root .* \./usr/lib/systemd/system/platformd\.service$' \
  '^-rw------- root/root .* \./etc/platformd/platformd\.conf$'

say "installing the app: apt-get install ./dist/$(basename "$APP_DEB")"
apt_get install "$APP_DEB" >/dev/null
installed sessiondesk || fail "sessiondesk did not install"
dpkg -L sessiondesk >"$WORK/sessiondesk.list"
[ "$(/usr/bin/sessiondesk -version)" = "sessiondesk $VERSION" ] || fail "installed sessiondesk -version is not $VERSION"

say "starting the installed /usr/bin/sessiondesk under Xvfb on the demo platform"
# A fresh HOME (with_private_session_bus) is a first start: the app makes its
# config and demo database there and signs in through the real keychain.
with_private_session_bus xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  # setsid: the app leads its own process group, with its WebKit helpers in it.
  setsid /usr/bin/sessiondesk -demo-new-device-every 0 >"$1/app.log" 2>&1 &
  app=$!
  for _ in $(seq 120); do
    grep -q "demo: signed in" "$1/app.log" && break
    kill -0 $app 2>/dev/null || break
    sleep 0.5
  done
  if [ -n "$2" ] && grep -q "demo: signed in" "$1/app.log"; then sleep 3; import -window root "$2"; fi
  # End the whole group and wait for it, so no helper is still writing in the
  # throwaway HOME when with_private_session_bus removes it.
  kill -TERM -- -$app 2>/dev/null; wait $app 2>/dev/null || true
  for _ in $(seq 20); do kill -0 -- -$app 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- -$app 2>/dev/null || true
' bash "$WORK" "${SCREENSHOT:-}"
grep -q 'msg="window started"' "$WORK/app.log" || fail "the installed app opened no window; its log:
$(cat "$WORK/app.log")"
grep -q 'msg="demo: signed in" signed_in=true' "$WORK/app.log" || fail "the installed app did not sign in; its log:
$(cat "$WORK/app.log")"
echo "    the app's log says: $(grep -o 'msg="demo: signed in" signed_in=true' "$WORK/app.log")"

say "installing platformd: apt-get install ./dist/$(basename "$PD_DEB")"
apt_get install "$PD_DEB" >/dev/null
installed platformd || fail "platformd did not install"
dpkg -L platformd >"$WORK/platformd.list"
UNIT=/usr/lib/systemd/system/platformd.service
CONF=/etc/platformd/platformd.conf
getent passwd platformd >/dev/null || fail "postinst made no platformd user"
has "$(getent passwd platformd)" '^platformd:x:[0-9]+:[0-9]+:[^:]*:/var/lib/platformd:/usr/sbin/nologin$'
[ "$(stat -c '%U %a' /var/lib/platformd)" = "platformd 700" ] || fail "/var/lib/platformd is $(stat -c '%U %a' /var/lib/platformd)"
[ "$(stat -c '%U %a' "$CONF")" = "root 600" ] || fail "$CONF is $(stat -c '%U %a' "$CONF")"
[ "$(platformd version)" = "platformd $VERSION" ] || fail "installed platformd version is not $VERSION"
platformd --help | grep -q 'platformd user add' || fail "platformd's admin commands are missing from its help"
unit="$(cat "$UNIT")"
has "$unit" '^User=platformd$' '^EnvironmentFile=/etc/platformd/platformd\.conf$' '^NoNewPrivileges=yes$' \
  '^PrivateTmp=yes$' '^ProtectSystem=strict$' '^ProtectHome=yes$' '^StateDirectory=platformd$' \
  '^StateDirectoryMode=0700$' '^CapabilityBoundingSet=$'
systemd-analyze verify "$UNIT" || fail "systemd-analyze verify $UNIT"
[ -L /etc/systemd/system/multi-user.target.wants/platformd.service ] || fail "postinst did not enable platformd.service"

say "running the unit's ExecStart line with the installed config (no systemd here), as the platformd user"
# The config read as systemd reads an EnvironmentFile: KEY=value lines, the
# value taken as is. Only the port changes, to a free one: 8080 may be in use.
env_args=()
while IFS= read -r line; do
  case "$line" in '' | '#'* | ';'*) continue ;; esac
  env_args+=("$line")
done <"$CONF"
port=""
for _ in $(seq 50); do
  p=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || fail "no free loopback port"
env_args+=("PLATFORMD_LISTEN=127.0.0.1:$port")
exec_start="$(sed -n 's/^ExecStart=//p' "$UNIT")"
# systemd passes ${VAR} as one word and splits $VAR on spaces; so does this.
shell_line="$(sed -e 's/\${\([A-Z_]*\)}/"${\1}"/g' <<<"$exec_start")"
echo "    ExecStart=$exec_start"
db="$(printf '%s\n' "${env_args[@]}" | sed -n 's/^PLATFORMD_DB=//p')"
# An admin's first step: an organization, made as the service's user so that
# the service can open the database file it creates.
(cd /var/lib/platformd && runuser -u platformd -- platformd org create --db "$db" --slug acme --name "Acme" >/dev/null)
[ "$(stat -c '%U %a' "$db")" = "platformd 600" ] || fail "$db is $(stat -c '%U %a' "$db")"
(cd /var/lib/platformd && umask 0077 && exec env -i PATH=/usr/bin:/bin "${env_args[@]}" \
  setpriv --reuid platformd --regid platformd --clear-groups --no-new-privs bash -c "exec $shell_line") \
  >"$WORK/platformd.log" 2>&1 &
PD_PID=$!
ok=""
for _ in $(seq 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >"$WORK/healthz" 2>/dev/null; then ok=1; break; fi
  kill -0 "$PD_PID" 2>/dev/null || break
  sleep 0.2
done
[ -n "$ok" ] || fail "platformd did not answer /healthz; its log:
$(cat "$WORK/platformd.log")"
echo "    GET /healthz: $(cat "$WORK/healthz")"
kill -TERM "$PD_PID"
wait "$PD_PID" || fail "platformd did not exit 0 on SIGTERM; its log:
$(cat "$WORK/platformd.log")"
PD_PID=""

say "purging both packages (apt-get purge) and checking that nothing of them is left"
apt_get purge sessiondesk platformd >/dev/null
for p in sessiondesk platformd; do
  ! dpkg-query -W "$p" >/dev/null 2>&1 || fail "dpkg still knows $p: $(dpkg-query -W -f='${Status}' "$p")"
done
# Shared directories (/usr/bin, …) stay; every file, and the directories
# that were the packages' own, must be gone.
while IFS= read -r path; do
  if [ -e "$path" ] && [ ! -d "$path" ]; then fail "$path is left after the purge"; fi
done < <(cat "$WORK/sessiondesk.list" "$WORK/platformd.list")
for path in /etc/platformd /var/lib/platformd /etc/systemd/system/multi-user.target.wants/platformd.service \
  /var/lib/systemd/deb-systemd-helper-enabled/platformd.service.dsh-also \
  /var/lib/systemd/deb-systemd-helper-masked/platformd.service; do
  [ ! -e "$path" ] && [ ! -L "$path" ] || fail "$path is left after the purge"
done
! getent passwd platformd >/dev/null || fail "the platformd user is left after the purge"
! getent group platformd >/dev/null || fail "the platformd group is left after the purge"
say "the packages install, run and purge cleanly"
