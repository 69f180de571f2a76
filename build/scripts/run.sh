#!/usr/bin/env bash
# Builds Sessions Desk and starts it. Without flags it runs on the embedded
# demo platform, signed in as admin@acme.test; pass `-server URL` to manage a
# deployed platformd instead. Any other flags go to the app (see `-help`).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_apt "${HEADLESS_PACKAGES[@]}"
build_app
BIN="$ROOT/build/bin/sessiondesk"

if have_display; then
  say "starting Sessions Desk"
  exec "$BIN" "$@"
fi
say "no display found: starting Sessions Desk on a virtual one (Xvfb) with a private keychain;"
say "build/scripts/screenshot.sh shows what it looks like"
with_private_session_bus xvfb-run -a -s "-screen 0 1280x900x24" "$BIN" "$@"
