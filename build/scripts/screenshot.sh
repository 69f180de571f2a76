#!/usr/bin/env bash
# Runs the production app under Xvfb on the embedded demo platform and writes
# PNGs of the real window, one per tab: overview.png, sessions.png,
# devices.png, audit.png, and the Settings view: settings.png.
# Usage: screenshot.sh [OUT_DIR] [-- app flags…]
# SHOT_DELAY (seconds, default 10) is how long to let it start and sync first.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT="${1:-$ROOT/build/screenshots}"
shift || true
[ "${1:-}" = "--" ] && shift
ensure_apt "${HEADLESS_PACKAGES[@]}" imagemagick xdotool
build_app
BIN="$ROOT/build/bin/sessiondesk"
mkdir -p "$OUT"
DATA="$(mktemp -d)"
say "running the window under Xvfb for ${SHOT_DELAY:-10}s, then capturing each tab into $OUT"
# The tabs follow the WAI-ARIA pattern, so a click on the first tab and the
# arrow key walk them as a keyboard user would.
with_private_session_bus xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  "$1" -data-dir "$2" -demo-new-device-every 0 "${@:4}" >"$2/app.log" 2>&1 &
  app=$!
  sleep "${SHOT_DELAY:-10}"
  import -window root "$3/sessions.png"
  xdotool mousemove 50 64 click 1; sleep 1.5
  import -window root "$3/overview.png"
  xdotool key Right; sleep 0.5
  xdotool key Right; sleep 1.5
  import -window root "$3/devices.png"
  xdotool key Right; sleep 1.5
  import -window root "$3/audit.png"
  # The Settings button sits in the header, left of Sign out.
  xdotool mousemove 1151 19 click 1; sleep 1.5
  import -window root "$3/settings.png"
  kill $app; wait $app 2>/dev/null || true
' bash "$BIN" "$DATA" "$OUT" "$@"
remove_tree "$DATA"
say "wrote $OUT/overview.png, sessions.png, devices.png, audit.png, settings.png"
