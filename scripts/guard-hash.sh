#!/usr/bin/env bash
# Behaviour guard: hashes what users see from `read` and `timeline` (ndjson, and text) and
# `stats --format json` over every public capture and every fixture. A refactoring must leave
# the hashes identical; a deliberate behaviour change updates them in the same commit.
#
#   scripts/guard-hash.sh            print one line per capture and command, then the total
#   scripts/guard-hash.sh --total    print the total hash only
#   GUARD_OUT=dir scripts/guard-hash.sh   also keep every output in dir (to diff two runs)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin/msgscope
shared=../shared/captures/public
mapfile -t files < <( (find "$shared" -type f ! -name '*.md' 2>/dev/null; find test/fixtures samples -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \)) | LC_ALL=C sort)
lines=()
for f in "${files[@]}"; do
  for cmd in "read --format ndjson" "read" "timeline --format ndjson" "timeline --no-color --wide" "stats --format json"; do
    out=$($bin $cmd -q "$f" 2>&1 || true)
    h=$(printf '%s' "$out" | sha256sum | cut -c1-16)
    if [ -n "${GUARD_OUT:-}" ]; then
      mkdir -p "$GUARD_OUT"; printf '%s' "$out" > "$GUARD_OUT/$(echo "$f $cmd" | tr '/ ' '__')"
    fi
    lines+=("$h  $cmd  $f")
  done
done
total=$(printf '%s\n' "${lines[@]}" | sha256sum | cut -c1-16)
if [ "${1:-}" != "--total" ]; then printf '%s\n' "${lines[@]}"; fi
echo "total $total"
