#!/usr/bin/env bash
# Runs the production app under Xvfb on the embedded demo platform and writes
# a PNG of the real window. Usage: screenshot.sh [OUT.png] [-- app flags…]
# SHOT_DELAY (seconds, default 8) is how long to let it load first.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT="${1:-$ROOT/build/screenshots/sessions.png}"
shift || true
[ "${1:-}" = "--" ] && shift
ensure_apt "${HEADLESS_PACKAGES[@]}" imagemagick
BIN="$ROOT/build/bin/sessiondesk"
build_app
mkdir -p "$(dirname "$OUT")"
DATA="$(mktemp -d)"
say "running the window under Xvfb for ${SHOT_DELAY:-8}s, then capturing $OUT"
with_private_session_bus xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  "$1" -data-dir "$2" "${@:4}" >"$2/app.log" 2>&1 &
  app=$!
  sleep "${SHOT_DELAY:-8}"
  import -window root "$3"
  kill $app; wait $app 2>/dev/null || true
' bash "$BIN" "$DATA" "$OUT" "$@"
rm -rf "$DATA"
say "wrote $OUT"
