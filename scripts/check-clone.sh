#!/usr/bin/env bash
# check-clone.sh — the project carries what its tests need: clones this repository (its
# committed HEAD) into a fresh temporary folder with nothing beside it, builds the vector
# tests there (every tests/test_*.c that calls wn_test_vector_path) and runs them with no
# WN_VECTORS set, from the clone's root. Fails if any of them cannot find its vectors, or if
# a test or script names a path outside the repository.
# Run by `make clone-check` (part of `make check`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rev=$(git -C "$root" rev-parse HEAD)
# 1. No test, script or Makefile names a path outside the repository.
if git -C "$root" grep -nE '\.\./shared|/work/|\$\(abspath \.\./' -- Makefile 'scripts/*' 'tests/*.c' \
     'tests/support/*' 'tests/fuzz/*' ':!scripts/check-clone.sh'; then
  echo "check-clone: the lines above read outside the repository" >&2
  exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wn-clone-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
git clone -q --no-hardlinks "$root" "$tmp/waternotary"
git -C "$tmp/waternotary" checkout -q "$rev"
ls -A "$tmp" | grep -qxv waternotary && { echo "check-clone: $tmp is not empty beside the clone" >&2; exit 1; }
cd "$tmp/waternotary"
# every test that reads public vectors (wn_test_vector_path)
mapfile -t tests < <(grep -l 'wn_test_vector_path' tests/test_*.c | sed 's#^tests/\(.*\)\.c$#build/tests/\1#')
[ ${#tests[@]} -gt 0 ] || { echo "check-clone: no vector tests found" >&2; exit 1; }
echo "check-clone: building ${tests[*]} in a clone of $rev at $tmp/waternotary" >&2
make -s -j2 "${tests[@]}" >/dev/null
env -u WN_VECTORS bash scripts/run-tests.sh "${tests[@]}"
echo "check-clone: a bare clone passes its vector tests"
