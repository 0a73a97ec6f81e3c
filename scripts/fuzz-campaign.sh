#!/usr/bin/env bash
# Long property-based campaign over every parser, the filter language and the JSON escaping
# (the same fast-check properties the normal test run tries a few hundred
# times with a fixed seed), and the hostile-input engine campaign. Each round uses a fresh seed;
# a failure prints the seed, the path and the shrunk input: replay it with
#   FC_SEED=<seed> FC_RUNS=<runs> node --test dist/test/<file>.test.js
# and add the input to that file's regression list (parser-properties.test.ts: REGRESSIONS).
#
#   scripts/fuzz-campaign.sh [RUNS_PER_PROPERTY] [ROUNDS]     (defaults: 20000 runs, 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20000}
rounds=${2:-3}
npx tsc -p .
files=(parser-properties filter-properties json-hardening)
log=$(mktemp -t msgscope-fuzz.XXXXXX)
status=0
for ((r = 1; r <= rounds; r++)); do
  seed=$(( (RANDOM << 15) | RANDOM ))
  for f in "${files[@]}"; do
    echo "round $r/$rounds  seed $seed  $f  ($runs runs per property)"
    if ! FC_RUNS=$runs FC_SEED=$seed node --test "dist/test/$f.test.js" >>"$log" 2>&1; then
      echo "  FAILED: see $log (FC_SEED=$seed FC_RUNS=$runs node --test dist/test/$f.test.js)"
      status=1
    fi
  done
done
echo "engine campaign: mutated real PDUs and random payloads on every port"
node --test dist/test/fuzz-protocols.test.js >>"$log" 2>&1 || { echo "  FAILED: see $log"; status=1; }
[ "$status" -eq 0 ] && echo "no failure ($log)"
exit "$status"
