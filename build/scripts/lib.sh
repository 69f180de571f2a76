# Shared helpers for the project's scripts: each installs what it needs,
# idempotently, and says what it is doing. Sourced, never run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WAILS_VERSION="v2.11.0"
GOBIN_DIR="$(go env GOPATH)/bin"
WAILS="$GOBIN_DIR/wails"
export PATH="$GOBIN_DIR:$PATH"
# Pin Go's caches now: the keychain recipe below swaps HOME for a throwaway
# one, and Go would otherwise rebuild and re-download everything under it.
GOCACHE="$(go env GOCACHE)"
GOMODCACHE="$(go env GOMODCACHE)"
GOPATH="$(go env GOPATH)"
export GOCACHE GOMODCACHE GOPATH

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# project_version is the one version of every build (both binaries, the
# About dialog, the packages): the release tag without its "v" when HEAD is
# tagged (v1.2.0 -> 1.2.0), else 0.0.0+<short commit>, which sorts below
# every release in both semver and Debian's ordering. VERSION overrides it.
project_version() {
  if [ -n "${VERSION:-}" ]; then
    echo "$VERSION"
    return
  fi
  local tag commit
  if tag="$(git -C "$ROOT" describe --tags --exact-match 2>/dev/null)"; then
    echo "${tag#v}"
    return
  fi
  commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "0.0.0+$commit"
}

# version_ldflags sets main.version, which sessiondesk and platformd both
# report (-version, "platformd version", the About dialog).
version_ldflags() { echo "-X main.version=$(project_version)"; }

# Debian packages: the GTK/WebKit toolchain Wails links against.
BUILD_PACKAGES=(build-essential pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev)
# What the window needs without a desktop, and what the tests drive it with
# (X11 and DAMAGE headers: e2e/xdamage.c, which records what the window draws).
HEADLESS_PACKAGES=(xvfb xauth dbus gnome-keyring libglib2.0-bin)
TEST_PACKAGES=(chromium imagemagick fonts-dejavu-core openssl postgresql xdotool libx11-dev libxdamage-dev)

# ensure_apt PKG… installs the packages that are missing, and only those.
ensure_apt() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return
  fi
  say "installing Debian packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_wails() {
  # Not `wails version | grep -q`: grep's early exit can kill wails with
  # SIGPIPE, and under pipefail that read as "not installed" (a reinstall).
  if [ -x "$WAILS" ] && [[ "$("$WAILS" version 2>/dev/null)" == "$WAILS_VERSION"* ]]; then
    return
  fi
  say "installing the Wails CLI $WAILS_VERSION (a few minutes the first time)"
  (cd "$ROOT" && go install "github.com/wailsapp/wails/v2/cmd/wails@$WAILS_VERSION")
}

# ensure_node_modules runs npm ci when the lock file changed since the last one.
ensure_node_modules() {
  local stamp="$ROOT/frontend/node_modules/.sessiondesk-lock"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$ROOT/frontend/package-lock.json"; then
    return
  fi
  say "installing the frontend's npm packages"
  (cd "$ROOT/frontend" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$ROOT/frontend/package-lock.json" "$stamp"
}

# generate_bindings writes the TypeScript bindings of the bound Go services
# (frontend/src/lib/wailsjs, not committed: the Go code is their one source).
generate_bindings() {
  say "generating the Wails bindings from the Go services"
  local err rc=0
  # The generator prints its struct list and "Not found: time.Time" once per
  # bound method on stderr (time.Time becomes string through Wire<T> in
  # frontend/src/lib/model.ts). Show stderr whole only when it fails.
  err="$( (cd "$ROOT" && "$WAILS" generate module -tags webkit2_41) 2>&1 >/dev/null)" || rc=$?
  if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$err" >&2
    return "$rc"
  fi
  grep -Ev '^(KnownStructs:|Not found: time\.Time|.\[0m$|.*no D-Bus session bus)' <<<"$err" >&2 || true
}

build_frontend() {
  say "building the frontend"
  (cd "$ROOT/frontend" && npm run --silent build >/dev/null)
}

# build_app makes the production binary build/bin/sessiondesk.
build_app() {
  ensure_apt "${BUILD_PACKAGES[@]}"
  ensure_wails
  ensure_node_modules
  generate_bindings
  build_frontend
  build_app_binary
}

# build_app_binary is build_app's last step, for callers that have built the
# bindings and the frontend already (test.sh before package.sh).
build_app_binary() {
  say "building the app $(project_version) (wails build -tags webkit2_41)"
  # -s: the frontend is built above; -m/-nosyncgomod: never rewrite go.mod.
  (cd "$ROOT" && "$WAILS" build -tags webkit2_41 -s -m -skipbindings -nosyncgomod -ldflags "$(version_ldflags)" >/dev/null)
}

# build_platformd makes build/bin/platformd, carrying the same version.
build_platformd() {
  say "building platformd $(project_version)"
  (cd "$ROOT" && go build -ldflags "$(version_ldflags)" -o build/bin/platformd ./backend/cmd/platformd)
}

# with_private_session_bus CMD… runs CMD on a private D-Bus session with an
# unlocked gnome-keyring in a throwaway HOME: the real Secret Service, but
# never the user's own keyring. `gdbus wait` keeps a second daemon from
# autostarting (and leaking) before the first has claimed its name.
with_private_session_bus() {
  local home rc=0
  home="$(mktemp -d)"
  HOME="$home" XDG_DATA_HOME="$home/.local/share" XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache" \
    dbus-run-session -- sh -c 'echo -n sessiondesk | gnome-keyring-daemon --unlock --components=secrets >/dev/null \
      && gdbus wait --session --timeout 10 org.freedesktop.secrets && exec "$@"' sh "$@" || rc=$?
  remove_tree "$home"
  return $rc
}

# remove_tree DIR removes a throwaway directory whose last writers may still be
# exiting: a WebKit helper process outlives the app it served by a moment and
# can add to ~/.cache/mesa_shader_cache while `rm -rf` walks it ("Directory not
# empty" failed a CI run). It retries for a few seconds, then warns instead of
# failing the run over a temporary directory.
remove_tree() {
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    rm -rf "$1" 2>/dev/null && return 0
    sleep 0.5
  done
  echo "warning: could not remove $1 (a process is still writing in it)" >&2
}

have_display() { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }

# start_test_postgres starts a throwaway PostgreSQL cluster (initdb in a
# temporary directory, its own free port on 127.0.0.1, fsync off: nothing in
# it must survive) and exports its URL as SESSIONDESK_TEST_POSTGRES. It is
# never the system's service. Call stop_test_postgres from an EXIT trap so a
# failing or interrupted run leaves no cluster behind. initdb refuses root, so
# as root the cluster runs as the `postgres` user the package creates.
PG_TEST_DIR=""
start_test_postgres() {
  local bin port run=()
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -z "$bin" ]; then
    echo "start_test_postgres: PostgreSQL is not installed (ensure_apt postgresql)" >&2
    return 1
  fi
  PG_TEST_DIR="$(mktemp -d /tmp/sessiondesk-pg.XXXXXX)"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$PG_TEST_DIR"
    run=(runuser -u postgres --)
  fi
  # A free port: bind port 0, read what the kernel gave, close (Go is there
  # anyway; python3 may not be on a fresh machine).
  printf '%s\n' 'package main' 'import ("fmt"; "net")' \
    'func main() { l, err := net.Listen("tcp", "127.0.0.1:0"); if err != nil { panic(err) }; fmt.Println(l.Addr().(*net.TCPAddr).Port); l.Close() }' \
    >"$PG_TEST_DIR/freeport.go"
  port="$(go run "$PG_TEST_DIR/freeport.go")"
  "${run[@]}" "$bin/initdb" -D "$PG_TEST_DIR/data" -U postgres --auth=trust -E UTF8 >"$PG_TEST_DIR/initdb.log" 2>&1
  "${run[@]}" "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/log" \
    -o "-k $PG_TEST_DIR -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    -w start >/dev/null
  PG_TEST_BIN="$bin"
  export SESSIONDESK_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  say "throwaway PostgreSQL cluster on 127.0.0.1:$port ($PG_TEST_DIR)"
}

# stop_test_postgres stops the cluster start_test_postgres started and
# removes its directory; safe to call twice or when none was started.
stop_test_postgres() {
  if [ -n "$PG_TEST_DIR" ] && [ -d "$PG_TEST_DIR" ]; then
    local run=()
    if [ "$(id -u)" -eq 0 ]; then run=(runuser -u postgres --); fi
    "${run[@]}" "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_TEST_DIR"
  fi
  PG_TEST_DIR=""
}

# ensure_kratos builds the Ory Kratos binary the Kratos tests run against and
# exports its path as SESSIONDESK_KRATOS_BIN. Kratos' go.mod has replace
# directives, so `go install` refuses it: the recipe (docs/engineering.md)
# copies the module's source out of the read-only module cache and builds it
# there with the sqlite tag. The binary is cached per version under
# XDG_CACHE_HOME (~7 min cold on 2 cores) and rebuilt only when missing. The
# cache path is decided here, before with_private_session_bus swaps HOME.
KRATOS_VERSION="v1.3.1"
ensure_kratos() {
  local dir bin src work
  dir="${XDG_CACHE_HOME:-$HOME/.cache}/sessiondesk/kratos-$KRATOS_VERSION"
  bin="$dir/kratos"
  if [ ! -x "$bin" ]; then
    say "building Ory Kratos $KRATOS_VERSION from its Go module into $dir (~7 min the first time)"
    mkdir -p "$dir"
    # Outside our module, so that the download never touches our go.mod/go.sum.
    src="$(cd "$dir" && go mod download -json "github.com/ory/kratos@$KRATOS_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
    if [ -z "$src" ] || [ ! -d "$src" ]; then
      echo "ensure_kratos: go mod download gave no source directory for github.com/ory/kratos@$KRATOS_VERSION" >&2
      return 1
    fi
    work="$(mktemp -d "$dir/src.XXXXXX")"
    cp -R "$src/." "$work"
    chmod -R u+w "$work"
    # Built in its own directory beside the cache entry, then renamed: an
    # interrupted build never leaves a half-written binary that a later run
    # would take as cached, and two runs at once do not write one file.
    if ! (cd "$work" && go build -tags sqlite -o "$work/kratos.bin" .); then
      rm -rf "$work"
      return 1
    fi
    mv "$work/kratos.bin" "$bin"
    rm -rf "$work"
  fi
  export SESSIONDESK_KRATOS_BIN="$bin"
  say "Ory Kratos $KRATOS_VERSION: $bin"
}
