#!/usr/bin/env bash
# demo.sh — what `make demo` runs (after make has built bin/): `wn demo` builds a fresh
# ledger with signed readings in demo-data/<timestamp>, then `wn verify-inclusion` checks
# the proof it wrote, exactly as an auditor would with only the file and the notary key.
set -eu
cd "$(dirname "$0")/.."
wn=bin/wn
dir="demo-data/$(date -u +%Y%m%dT%H%M%SZ)"
while [ -e "$dir" ]; do dir="$dir-1"; done

echo "== bin/wn demo --dir $dir"
"$wn" demo --dir "$dir"

pub=$(cat "$dir/notary.pub")
echo
echo "== bin/wn verify-inclusion $dir/proof.tlog-proof --notary-pub $pub"
"$wn" verify-inclusion "$dir/proof.tlog-proof" --notary-pub "$pub"
echo
echo "Everything is in $dir: keys, the LMDB ledger, the proof. Try changing a byte of the"
echo "proof file and verifying again (exit code 1), or: $wn --help"
