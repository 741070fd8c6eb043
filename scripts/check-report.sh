#!/usr/bin/env bash
# Opens an HTML report in headless Chromium with the network off, as a reader would, and
# keeps what it saw in OUTDIR: the DOM as parsed (dom.html), screenshots in light and dark
# mode (light.png, dark.png; the top HEIGHT pixels, default 2400) and the printed PDF
# (print.pdf). Fails when the page logs anything to the console: a blocked request, a
# script, a Content-Security-Policy violation. The figures themselves are checked against
# the result JSON by the test that runs this (tests/it/report.rs).
#
# Usage: scripts/check-report.sh REPORT.html OUTDIR
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 REPORT.html OUTDIR" >&2
  exit 2
fi
report=$(realpath "$1")
out=$2
mkdir -p "$out"
out=$(realpath "$out")
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
  echo "no Chromium on PATH (Debian: apt-get install chromium)" >&2
  exit 3
fi

# No network: every host resolves to nothing and any proxied request goes nowhere.
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
  --disable-background-networking --disable-component-update
  --host-resolver-rules="MAP * ~NOTFOUND" --proxy-server=127.0.0.1:9
  --user-data-dir="$out/profile" --enable-logging=stderr --v=0)
url="file://$report"
log="$out/chromium.log"
: >"$log"
browse() { "$browser" "${flags[@]}" "$@" "$url" 2>>"$log"; }

browse --dump-dom >"$out/dom.html"
browse --window-size="1280,${HEIGHT:-2400}" --screenshot="$out/light.png" >/dev/null
browse --force-dark-mode --window-size="1280,${HEIGHT:-2400}" --screenshot="$out/dark.png" >/dev/null
browse --no-pdf-header-footer --print-to-pdf="$out/print.pdf" >/dev/null
rm -rf "$out/profile"

for file in dom.html light.png dark.png print.pdf; do
  if [ ! -s "$out/$file" ]; then
    echo "Chromium wrote no $file; its log: $log" >&2
    exit 1
  fi
done
grep -F ':CONSOLE' "$log" >"$out/console.txt" || true
if [ -s "$out/console.txt" ]; then
  echo "the report logged to the console:" >&2
  cat "$out/console.txt" >&2
  exit 1
fi
echo "ok: $out"
