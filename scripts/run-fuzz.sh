#!/usr/bin/env bash
# run-fuzz.sh — builds every tests/fuzz/fuzz_*.c as a libFuzzer binary (clang, with
# ASan/UBSan) and runs it for a bounded time on its corpus in tests/fuzz/corpus/<name>/.
# New inputs found are written to a scratch folder, never into the repository corpus.
set -euo pipefail
secs=${1:-20}
out=build-fuzz
mkdir -p "$out"
libsrc=$(ls crypto/*.c protocol/*.c chain/*.c ledger/*.c ledger/tlog/*.c 2>/dev/null)
for f in tests/fuzz/fuzz_*.c; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .c)
  # extra sources: a line "// fuzz-sources: a.c b.c" (or " * fuzz-sources: ..." in a block comment)
  extra=$(sed -n -E 's#^(//| \*) fuzz-sources: ##p' "$f" | sed 's#\*/##')
  clang -std=c11 -D_GNU_SOURCE -I. -g -O1 -fsanitize=fuzzer,address,undefined \
    -o "$out/$name" "$f" $libsrc $extra -lsecp256k1 -lcrypto -llmdb -lcjson -lmicrohttpd -lcurl -lnettle -lmodbus -lm -pthread
  corpus="tests/fuzz/corpus/${name#fuzz_}"
  scratch=$(mktemp -d)
  mkdir -p "$corpus"
  echo "== fuzz $name for ${secs}s (corpus $corpus)" >&2
  "$out/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$out/$name-" "$scratch" "$corpus" 2>&1 | tail -n 3 >&2
  rm -rf "$scratch"
done
