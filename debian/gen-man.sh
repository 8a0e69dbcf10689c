#!/bin/sh
# gen-man.sh VERSION OUTDIR — man pages for wn(1), wn-node(8), wn-meter(1) and wn-gateway(8) made by
# help2man from the programs' own --help texts; wn's and wn-meter's pages also carry every
# subcommand's --help, so nothing in them is written twice.
set -eu
version=$1
out=$2
mkdir -p "$out"
sub_help() { # PROGRAM: an include file with a section per subcommand
  prog=$1
  printf '[COMMANDS IN DETAIL]\n'
  "bin/$prog" --help 2>&1 | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p' | while read -r cmd; do
    printf '.SS "%s %s"\n.nf\n' "$prog" "$cmd"
    "bin/$prog" "$cmd" --help 2>&1 | sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\&'/"
    printf '.fi\n'
  done
}
sub_help wn > "$out/wn.h2m"
sub_help wn-meter > "$out/wn-meter.h2m"
h2m() { help2man --no-info --no-discard-stderr --version-string="$version" "$@"; }
h2m --section=1 --name="verify WaterNotary proofs, bundles, claims and certificates; audit and back up ledgers" \
    --include="$out/wn.h2m" --output="$out/wn.1" bin/wn
h2m --section=1 --name="WaterNotary meter agent: sign, queue and push water-meter readings" \
    --include="$out/wn-meter.h2m" --output="$out/wn-meter.1" bin/wn-meter
h2m --section=8 --name="WaterNotary notary node" --output="$out/wn-node.8" bin/wn-node
h2m --section=8 --name="WaterNotary Modbus gateway: notarise installed flowmeters" --output="$out/wn-gateway.8" bin/wn-gateway
