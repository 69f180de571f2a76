#!/usr/bin/env bash
# Runs every test of Sessions Desk: Go vet and the race-enabled Go tests (on a
# private D-Bus with a real gnome-keyring), short fuzz runs, the frontend's
# type check and component tests, and the end-to-end suite that drives the
# real app binary in Chromium, and the packages (package.sh, then
# check-packages.sh installs, runs and purges them). Installs what it needs
# first.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_apt "${BUILD_PACKAGES[@]}" "${HEADLESS_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_wails
ensure_node_modules
generate_bindings

say "go vet"
(cd "$ROOT" && go vet -tags webkit2_41 ./...)
(cd "$ROOT/build/package" && go vet ./...)

say "frontend: type check (svelte-check)"
(cd "$ROOT/frontend" && npm run --silent check)
say "frontend: component tests (vitest)"
(cd "$ROOT/frontend" && npm run --silent test)

build_frontend
say "building the dev app binary and platformd for the end-to-end suite"
(cd "$ROOT" && go build -tags dev,webkit2_41 -ldflags "$(version_ldflags)" -o build/bin/sessiondesk-dev .)
build_platformd

# Fuzz targets run briefly so that they cannot rot; FUZZTIME=1000000x for a
# real hunt. The budget is a count of executions (a few seconds each here),
# not a duration: with a duration, Go 1.26's fuzz coordinator can fail a
# clean run with "context deadline exceeded" as the time runs out
# (go.dev/issue/75804, fixed in Go 1.27), which a cold CI run hit.
FUZZ_TARGETS=()
if [ -d "$ROOT/backend/server" ]; then
  while read -r name; do FUZZ_TARGETS+=("$name"); done < <(cd "$ROOT" && grep -ho '^func Fuzz[A-Za-z0-9_]*' backend/server/*_test.go 2>/dev/null | sed 's/^func //')
fi

# A throwaway PostgreSQL cluster for the PostgreSQL store's tests and the
# two-replica runs; the trap removes it also when a test fails or the run is
# interrupted.
trap stop_test_postgres EXIT
trap 'exit 130' INT TERM
start_test_postgres
export SESSIONDESK_REQUIRE_POSTGRES=1
# Ory Kratos v1.3.1 for the Kratos client's tests (app/kratos): built once
# and cached, and its path exported now, before the private session bus
# swaps HOME.
ensure_kratos
export SESSIONDESK_REQUIRE_KRATOS=1

say "go test -race ./... and the end-to-end suite, on a private D-Bus with gnome-keyring"
export SESSIONDESK_REQUIRE_KEYCHAIN=1
with_private_session_bus bash -c '
  set -euo pipefail
  cd "$1"; shift
  go test -race -count=1 ./...
  echo "==> the platform HTTP tests again, against two replicas on one PostgreSQL database"
  SESSIONDESK_PLATFORMTEST=postgres-replicas go test -race -count=1 ./backend/server/... ./backend/platformtest/...
  for t in "$@"; do
    echo "==> fuzzing $t for ${FUZZTIME:-30000x}"
    go test -run=NONE -fuzz="^$t\$" -fuzztime="${FUZZTIME:-30000x}" ./backend/server
  done
  echo "==> bench, short: every measurement of build/scripts/bench.sh at a tiny size, results checked, timings not"
  go run ./app/cmd/sdbench -short -soak 3s -platformd build/bin/platformd -app build/bin/sessiondesk-dev -ui frontend/bench/ui.mjs -postgres "$SESSIONDESK_TEST_POSTGRES" \
    -kratos "$SESSIONDESK_KRATOS_BIN"
  echo "==> end-to-end suite (real app under Xvfb, Chromium through playwright-core)"
  (cd frontend && npm run --silent e2e)
' bash "$ROOT" "${FUZZ_TARGETS[@]}"
say "packages: build the .deb files and the Windows installer, then install, run and purge them"
FRONTEND_BUILT=1 bash "$ROOT/build/scripts/package.sh"
bash "$ROOT/build/scripts/check-packages.sh"
say "all tests passed"
