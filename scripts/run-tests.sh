#!/usr/bin/env bash
# run-tests.sh — runs each Criterion test binary given on the command line, shows its
# output, and ends with one summary line ("N passed, N failed") over all of them.
# With WN_SUMMARY_FILE set, "PASSED FAILED" is also written there (make check adds them up).
# The failures are repeated at the end, so that the tail of a long CI log names them.
# Exit status is non-zero if any test failed or crashed, or a binary did not report.
set -u
passed=0; failed=0; bad=0; failures=""
for t in "$@"; do
  echo "== $(basename "$t")" >&2
  log=$(mktemp)
  "$t" --jobs 2 2>&1 | tee "$log" >&2
  rc=${PIPESTATUS[0]}
  line=$(grep -a 'Synthesis: Tested:' "$log" | tail -n 1)
  what=$(grep -a -E '^\[(----|FAIL)\]|ERROR: |runtime error' "$log" | head -n 20)
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "!! $(basename "$t") did not report (exit $rc)" >&2; bad=1; failed=$((failed+1))
    failures+="== $(basename "$t"): did not report (exit $rc)"$'\n'"$what"$'\n'; continue
  fi
  p=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$line")
  f=$(sed -E 's/.*Failing: ([0-9]+).*/\1/' <<<"$line")
  c=$(sed -E 's/.*Crashing: ([0-9]+).*/\1/' <<<"$line")
  passed=$((passed+p)); failed=$((failed+f))   # Criterion counts crashes among failures
  [ "$rc" -eq 0 ] || bad=1
  [ "$c" -eq 0 ] || bad=1
  if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ] || [ "$c" -ne 0 ]; then
    failures+="== $(basename "$t"): $line (exit $rc)"$'\n'"$what"$'\n'
  fi
done
[ -n "$failures" ] && printf 'failures:\n%s' "$failures" >&2
echo "tests: $passed passed, $failed failed"
[ -n "${WN_SUMMARY_FILE:-}" ] && echo "$passed $failed" > "$WN_SUMMARY_FILE"
[ "$bad" -eq 0 ] && [ "$failed" -eq 0 ]
