#!/usr/bin/env bash
# check-deb.sh OUTDIR — the Debian package, tested as an operator would meet it (make deb-check,
# part of make check):
#   1. build it (scripts/build-deb.sh; or take WN_DEB=path/to.deb) and run lintian: no error
#      and no warning (justified ones are overridden in debian/waternotary.lintian-overrides);
#   2. unpack it (dpkg-deb -x) into a temporary root and check what it installs;
#   3. promtool check rules on the shipped alert rules (where Debian's prometheus is installed);
#   4. run the installed wn-node with the packaged /etc/waternotary/wn-node.conf (data
#      directory and port overridden on the command line) against simulated meters
#      (the installed wn-meter simulate), serving the installed page; take `wn backup` while
#      the meters write and `wn backup verify` it; stop the node with SIGTERM;
#   5. systemd-analyze verify on the unit (ExecStart pointed at the unpacked binary), and
#      systemd-analyze security --offline's exposure score (skipped with a reason where
#      systemd-analyze is absent).
set -euo pipefail
root_dir="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
say() { echo "deb-check: $*" >&2; }
fail() { echo "deb-check: FAILED: $*" >&2; exit 1; }

deb=${WN_DEB:-}
if [ -z "$deb" ]; then deb=$(bash "$root_dir/scripts/build-deb.sh" "$out" | tail -n 1); fi
[ -f "$deb" ] || fail "no package $deb"
say "package $(basename "$deb"): $(stat -c %s "$deb") bytes"

# 1. lintian
lint=$(lintian --fail-on none "$deb" 2>&1 | grep -v 'running with root privileges' || true)
[ -n "$lint" ] && echo "$lint" >&2
errors=$(grep -c '^E:' <<<"$lint" || true)
warnings=$(grep -c '^W:' <<<"$lint" || true)
say "lintian: $errors errors, $warnings warnings"
[ "$errors" -eq 0 ] || fail "lintian reports errors"
[ "$warnings" -eq 0 ] || fail "lintian warnings must be fixed or justified in debian/waternotary.lintian-overrides"

# 2. unpack
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wn-deb-XXXXXX")
node_pid=""
cleanup() { [ -n "$node_pid" ] && kill -KILL "$node_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
r="$tmp/root"
dpkg-deb -x "$deb" "$r"
for f in usr/bin/wn usr/bin/wn-node usr/bin/wn-meter usr/bin/wn-gateway etc/waternotary/wn-node.conf \
         lib/systemd/system/wn-node.service usr/lib/sysusers.d/waternotary.conf \
         usr/share/man/man1/wn.1.gz usr/share/man/man1/wn-meter.1.gz usr/share/man/man8/wn-node.8.gz \
         usr/share/man/man8/wn-gateway.8.gz usr/share/waternotary/profiles/modbus/generic-u32-litres.json \
         usr/share/waternotary/web/index.html \
         usr/share/waternotary/web/vendor/node_modules/echarts/dist/echarts.min.js \
         usr/share/waternotary/prometheus/waternotary-alerts.yml usr/share/doc/waternotary/copyright; do
  [ -e "$r/$f" ] || fail "the package lacks /$f"
done
ls "$r"/usr/share/waternotary/policies/*.json >/dev/null || fail "no policies installed"
for doc in $(sed -n 's#^Documentation=.*file:\([^ ]*\).*#\1#p' "$r/lib/systemd/system/wn-node.service"); do
  [ -e "$r$doc" ] || fail "the unit's Documentation= names $doc, which the package lacks"
done
# (grep reads whole outputs here: grep -q would stop early, and pipefail would count the
#  writer's SIGPIPE as a failure)
zcat "$r/usr/share/man/man1/wn.1.gz" | grep -c 'wn backup' >/dev/null || fail "man wn lacks the backup command"
zcat "$r/usr/share/man/man8/wn-gateway.8.gz" | grep -c 'channel' >/dev/null || fail "man wn-gateway lacks its configuration"
dpkg-deb -I "$deb" conffiles | grep -cx /etc/waternotary/wn-node.conf >/dev/null || fail "wn-node.conf is not a conffile"
say "unpacked: programs, man pages, page, policies, rules, unit, sysusers, conffile"

# 3. alert rules
if command -v promtool >/dev/null 2>&1; then
  promtool check rules "$r/usr/share/waternotary/prometheus/waternotary-alerts.yml" >&2 || fail "promtool check rules"
else
  say "promtool absent (Debian package prometheus): alert rules not checked"
fi

# 4. the installed node with the packaged configuration, meters, a backup while they write
data="$tmp/data"
"$r/usr/bin/wn-node" --config "$r/etc/waternotary/wn-node.conf" --data "$data" --listen 127.0.0.1:0 \
  --port-file "$tmp/port" --checkpoint-ms 50 2>"$tmp/node.log" &
node_pid=$!
for _ in $(seq 1 300); do [ -s "$tmp/port" ] && break; kill -0 "$node_pid" 2>/dev/null || break; sleep 0.1; done
[ -s "$tmp/port" ] || { cat "$tmp/node.log" >&2; fail "the installed wn-node did not start"; }
url="http://127.0.0.1:$(cat "$tmp/port")"
say "installed wn-node listens at $url"
curl -sf "$url/ui/" | grep -ci '<html' >/dev/null || fail "the installed page is not served at /ui/"
curl -sf -o /dev/null "$url/ui/vendor/node_modules/echarts/dist/echarts.min.js" || fail "ECharts is not served"
"$r/usr/bin/wn-meter" simulate --node "$url" --registrar-key "$data/registrar.key" --meters 6 \
  --readings 200 --batch 8 --state "$tmp/fleet" --quiet >"$tmp/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 300); do
  n=$(curl -sf "$url/v1/checkpoint" | sed -n 2p || true)
  [ -n "$n" ] && [ "$n" -ge 100 ] && break
  sleep 0.1
done
"$r/usr/bin/wn" backup --data "$data" --out "$tmp/node.wnbak" >&2 || fail "wn backup"
kill -0 "$sim_pid" 2>/dev/null && say "the backup was taken while the meters were writing" \
  || say "note: the meters had finished before the backup"
wait "$sim_pid" || { cat "$tmp/sim.log" >&2; fail "wn-meter simulate"; }
tail -n 1 "$tmp/sim.log" >&2
"$r/usr/bin/wn" backup verify "$tmp/node.wnbak" >"$tmp/verify.log" 2>&1 || { cat "$tmp/verify.log" >&2; fail "wn backup verify"; }
grep -E '^(backup|AUDIT)' "$tmp/verify.log" >&2
[ "$(stat -c %a "$tmp/node.wnbak")" = 600 ] || fail "the backup file is not 0600"
kill -TERM "$node_pid"
wait "$node_pid" && rc=0 || rc=$?
node_pid=""
[ "$rc" -eq 0 ] || { tail -n 5 "$tmp/node.log" >&2; fail "wn-node did not stop cleanly on SIGTERM (exit $rc)"; }
grep -q 'stopped' "$tmp/node.log" || fail "wn-node did not log its stop"
say "SIGTERM: the node stopped cleanly"

# 5. the systemd unit
if command -v systemd-analyze >/dev/null 2>&1; then
  mkdir -p "$tmp/unit"
  sed "s|/usr/bin/wn-node|$r/usr/bin/wn-node|" "$r/lib/systemd/system/wn-node.service" >"$tmp/unit/wn-node.service"
  v=$(MANPATH="$r/usr/share/man" systemd-analyze verify "$tmp/unit/wn-node.service" 2>&1 || echo "exit status $?")
  [ -z "$v" ] || { echo "$v" >&2; fail "systemd-analyze verify"; }
  say "systemd-analyze verify: clean"
  if score=$(systemd-analyze security --offline=true "$tmp/unit/wn-node.service" 2>/dev/null | grep 'Overall exposure'); then
    say "systemd-analyze security: ${score#→ }"
  else
    say "systemd-analyze security --offline is not available here: no score"
  fi
else
  say "systemd-analyze absent: the unit was not verified"
fi
say "passed"
