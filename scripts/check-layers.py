#!/usr/bin/env python3
"""check-layers.py — fails when an #include crosses the dependency rules of
docs/ARCHITECTURE.md, or when files include each other in a loop across folders.

Rules (a module is a top-level folder; node/ and cli/ have subsystem folders):
  crypto   may include crypto
  protocol may include crypto, protocol
  ledger   may include crypto, ledger
  chain    may include crypto, chain
  savings  may include crypto, protocol, ledger, savings
  device   may include crypto, protocol, device (the library in device/ itself never its
           programs in device/agent/ and device/gateway/)
  node     may include crypto, protocol, ledger, chain, savings, node
  cli      may include crypto, protocol, ledger, chain, savings, cli   (never node)
  node/http/ may include nothing else of node/ (HTTP mechanics know no subsystem)
  ledger/tlog/ may include nothing else of ledger/ (Merkle math and formats know no storage)
  device/core/ may include nothing but device/core/ and, of the C library, <stddef.h> and
           <stdint.h> (the freestanding meter core: everything else comes through its port)
  device/port/<board>/ may include device/core/ and what its board offers; the library in
           device/ and its programs never include a port's files but device/port/posix/
  tests, bench: anything
A loop of includes between files ("x.c" and "x.h" count as one file) is allowed only when
all its files sit in one folder (a subsystem that is split into files for reading, such as
ledger/ or cli/audit/); ARCHITECTURE.md names those folders and why.

Usage: scripts/check-layers.py [ROOT]   (exit 0: clean; 1: each violation printed)
"""
import os
import re
import sys

ALLOWED = {
    "crypto": {"crypto"},
    "protocol": {"crypto", "protocol"},
    "ledger": {"crypto", "ledger"},
    "chain": {"crypto", "chain"},
    "savings": {"crypto", "protocol", "ledger", "savings"},
    "device": {"crypto", "protocol", "device"},
    "node": {"crypto", "protocol", "ledger", "chain", "savings", "node"},
    "cli": {"crypto", "protocol", "ledger", "chain", "savings", "cli"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SYSINCLUDE = re.compile(r'^\s*#\s*include\s+<([^>]+)>', re.M)
CORE_SYS = {"stddef.h", "stdint.h"}


def sources(root):
    for mod in ALLOWED:
        for d, _, files in os.walk(os.path.join(root, mod)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), root)


def unit(path):
    """x.c and x.h are one file for loops."""
    return path[:-2]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    problems = []
    edges = {}
    for src in sources(root):
        text = open(os.path.join(root, src), encoding="utf-8", errors="replace").read()
        mod = src.split("/")[0]
        if src.startswith("device/core/"):
            for inc in SYSINCLUDE.findall(text):
                if inc not in CORE_SYS:
                    problems.append(f"{src}: the freestanding core may include only <stddef.h> and <stdint.h>, not <{inc}>")
        for inc in INCLUDE.findall(text):
            target_mod = inc.split("/")[0]
            if not os.path.exists(os.path.join(root, inc)):
                problems.append(f"{src}: includes \"{inc}\", which is not a file of the tree (write paths from the root)")
                continue
            if target_mod not in ALLOWED[mod]:
                problems.append(f"{src}: {mod}/ may not include {inc} ({target_mod}/ is not below {mod}/)")
            if src.startswith("node/http/") and inc.startswith("node/") and not inc.startswith("node/http/"):
                problems.append(f"{src}: node/http/ may not include {inc} (HTTP mechanics know no subsystem)")
            if src.startswith("ledger/tlog/") and inc.startswith("ledger/") and not inc.startswith("ledger/tlog/"):
                problems.append(f"{src}: ledger/tlog/ may not include {inc} (the log's formats know no storage)")
            if src.startswith("device/core/") and not inc.startswith("device/core/"):
                problems.append(f"{src}: device/core/ may include only device/core/, not {inc} (the port brings the rest)")
            if (inc.startswith("device/port/") and not inc.startswith("device/port/posix/")
                    and not src.startswith(os.path.dirname(inc) + "/")):
                problems.append(f"{src}: only the port itself includes {inc} (a board's port is built into its firmware alone)")
            if (src.startswith("device/") and src.count("/") == 1 and inc.count("/") > 1
                    and not inc.startswith(("device/core/", "device/port/posix/"))):
                problems.append(f"{src}: the device library may not include its programs' {inc}")
            a, b = unit(src), unit(inc)
            if a != b:
                edges.setdefault(a, set()).add(b)

    # Loops: strongly connected components of the unit graph (Tarjan, iterative).
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
    nodes = set(edges) | {b for bs in edges.values() for b in bs}
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        comps.append(sorted(comp))
    for comp in comps:
        folders = {os.path.dirname(c) for c in comp}
        if len(folders) > 1:
            problems.append("include loop across folders: " + " -> ".join(comp))
        else:
            print("check-layers: loop inside " + folders.pop() + "/ (allowed): " + ", ".join(c.split("/")[-1] for c in comp))
    for p in problems:
        print("check-layers: " + p)
    print(f"check-layers: {len(list(sources(root)))} files, {sum(len(v) for v in edges.values())} includes, "
          f"{len(comps)} loops inside one folder, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
