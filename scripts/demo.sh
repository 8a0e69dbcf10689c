#!/usr/bin/env bash
# demo.sh — what `make demo` runs once make has built bin/: a notary node on 127.0.0.1 with
# a fleet of simulated meters pushing signed readings, then what an auditor does with the
# result: fetch and verify the signed checkpoint, fetch a proof that one reading is in the
# ledger and verify it offline with nothing but the file and the notary's public key.
# Everything lands in demo-data/<timestamp>; the node is stopped at the end.
set -eu
cd "$(dirname "$0")/.."
dir="demo-data/$(date -u +%Y%m%dT%H%M%SZ)"
while [ -e "$dir" ]; do dir="$dir-1"; done
mkdir -p "$dir"
meters=${DEMO_METERS:-12}
readings=${DEMO_READINGS:-96}

node_pid=""
stop_node() { [ -n "$node_pid" ] && kill -TERM "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null; node_pid=""; }
trap stop_node EXIT

echo "== starting bin/wn-node --data $dir/node (log: $dir/node.log)"
bin/wn-node --data "$dir/node" --listen 127.0.0.1:0 --port-file "$dir/port" \
  --checkpoint-every 500 --checkpoint-ms 500 2>"$dir/node.log" &
node_pid=$!
for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
[ -s "$dir/port" ] || { echo "the node did not start; see $dir/node.log" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$dir/port")"
notary=$(curl -sf "$url/v1/pubkey" | sed 's/.*"notary":"\([0-9a-f]*\)".*/\1/')
echo "   node at $url, notary key $notary"

echo
echo "== bin/wn-meter simulate: $meters meters x $readings readings (15-minute intervals)"
bin/wn-meter simulate --node "$url" --registrar-key "$dir/node/registrar.key" \
  --meters "$meters" --readings "$readings" --state "$dir/meters" --notary-pub "$notary"

sleep 1 # let the node sign a checkpoint that covers the last readings
echo
echo "== bin/wn checkpoint --node $url --notary-pub $notary"
bin/wn checkpoint --node "$url" --notary-pub "$notary" --out "$dir/checkpoint.txt"

meter=$(bin/wn-meter status --state "$dir/meters/meter-00000" --json | sed 's/.*"meter":"\([0-9a-f]*\)".*/\1/')
seq=$((readings / 2))
echo
echo "== meter $meter, as the node sees it"
curl -sf "$url/v1/meters/$meter"; echo
echo
echo "== proof that reading $seq of that meter is in the ledger: $dir/reading.tlog-proof"
curl -sf "$url/v1/proof/inclusion?meter=$meter&seq=$seq" > "$dir/reading.tlog-proof"
echo "== bin/wn verify-inclusion $dir/reading.tlog-proof --notary-pub $notary"
bin/wn verify-inclusion "$dir/reading.tlog-proof" --notary-pub "$notary"

echo
echo "== the water bureau's page: $url/ui/  (overview, enterprises, water balance, alerts)"
if [ "${DEMO_KEEP:-}" = 1 ]; then
  trap - EXIT
  echo "   DEMO_KEEP=1: the node keeps running (pid $node_pid); stop it with: kill $node_pid"
  exit 0
fi
stop_node
echo
echo "The node stopped cleanly (DEMO_KEEP=1 make demo leaves it running for the page). Everything is in $dir: the node's ledger and keys, each"
echo "meter's key and queue, the checkpoint and the proof. Change a byte of the proof and"
echo "verify again (exit code 1); 'bin/wn demo --dir DIR' shows the ledger alone, offline."
