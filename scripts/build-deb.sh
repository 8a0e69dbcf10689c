#!/usr/bin/env bash
# build-deb.sh OUTDIR — builds the Debian package with the ordinary dpkg-buildpackage path
# (debian/, debhelper compat 13) in a fresh copy of the sources, OUTDIR/waternotary-VERSION/,
# so the build's results (which dpkg-buildpackage writes to the parent directory) stay in
# OUTDIR. The copy holds the files git knows (tracked or new, not ignored) and ECharts'
# dist/echarts.min.js from web/vendor/node_modules (installed by scripts/install-deps.sh).
# Prints the path of the .deb on its last line.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
cd "$root"
version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
src="$out/waternotary-$version"
rm -rf "$src" "$out"/waternotary_"$version"_*
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard | grep -zv '^tests/vectors/' |
  xargs -0 cp --parents -d -t "$src" 2>/dev/null || true
# files deleted in the work tree but still in the index are skipped by cp; nothing else may fail
[ -f "$src/debian/rules" ] && [ -f "$src/Makefile" ] || { echo "build-deb: copying the sources failed" >&2; exit 1; }
ec=web/vendor/node_modules/echarts/dist/echarts.min.js
[ -f "$ec" ] || { echo "build-deb: $ec is missing: run scripts/install-deps.sh" >&2; exit 1; }
rm -rf "$src/web/vendor/node_modules"
mkdir -p "$src/$(dirname "$ec")"
cp -L "$ec" "$src/$ec"
cp -L web/vendor/node_modules/echarts/LICENSE "$src/web/vendor/node_modules/echarts/LICENSE"
cd "$src"
echo "build-deb: dpkg-buildpackage in $src" >&2
dpkg-buildpackage -us -uc -b -j2 >"$out/build.log" 2>&1 || { tail -n 40 "$out/build.log" >&2; exit 1; }
deb="$out/waternotary_${version}_${arch}.deb"
[ -f "$deb" ] || { echo "build-deb: $deb was not made (see $out/build.log)" >&2; exit 1; }
echo "$deb"
