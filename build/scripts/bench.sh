#!/usr/bin/env bash
# Measures Sessions Desk at 100,000 sessions and prints one table (see
# app/cmd/sdbench): platformd, the app's sync and offline cache beside their
# floor, the UI in the real app, memory, and a 60 s load soak on loopback;
# platformd's rows on SQLite and PostgreSQL side by side, and the soak also
# against two replicas on one PostgreSQL database; and the Kratos column:
# the app's full sync of 100,000 sessions from a seeded Ory Kratos v1.3.1
# beside its floor (3 runs: each walks Kratos' admin API twice).
# Not part of the test command (that runs a -short version of it); takes a
# few minutes. Extra flags go to sdbench, e.g. `bench.sh -runs 3 -soak 0`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_apt "${BUILD_PACKAGES[@]}" "${HEADLESS_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_wails
ensure_node_modules
ensure_kratos
generate_bindings
build_frontend
build_platformd
say "building the dev app and the bench"
(cd "$ROOT" && go build -tags dev,webkit2_41 -ldflags "$(version_ldflags)" -o build/bin/sessiondesk-dev . \
  && go build -o build/bin/sdbench ./app/cmd/sdbench)
# platformd's rows run on SQLite and, side by side, on a throwaway
# PostgreSQL cluster (the same helper as test.sh), removed on any exit.
trap stop_test_postgres EXIT
trap 'exit 130' INT TERM
start_test_postgres
say "running the bench (the UI part runs the real app under Xvfb with a private keychain)"
cd "$ROOT"
with_private_session_bus build/bin/sdbench -platformd build/bin/platformd -app build/bin/sessiondesk-dev \
  -ui frontend/bench/ui.mjs -soak 60s -postgres "$SESSIONDESK_TEST_POSTGRES" \
  -kratos "$SESSIONDESK_KRATOS_BIN" -kratos-runs 3 "$@"
