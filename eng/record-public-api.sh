#!/usr/bin/env bash
# Records new public API in each package's PublicAPI.Unshipped.txt: builds the solution, takes every symbol the public API
# analyzer reports as undeclared (RS0016), and appends it to the file of the project that declares it. Review the diff:
# a public change is a decision, not a side effect. Removed API (RS0017) is listed for you to delete by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet build Checkups.sln -c Release -nologo >"$log" 2>&1 || true
python3 - "$log" <<'PY'
import re, sys, collections, pathlib
added = collections.defaultdict(set)
removed = set()
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.search(r"(/\S+?/src/[^/]+)/\S+\(\d+,\d+\): error RS0016: Symbol '(.+?)' is not part of the declared public API", line)
    if m:
        added[m.group(1)].add(m.group(2))
    m = re.search(r"error RS0017: Symbol '(.+?)' is part of the declared API", line)
    if m:
        removed.add(m.group(1))
for project, symbols in added.items():
    path = pathlib.Path(project) / "PublicAPI.Unshipped.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    header, body = lines[:1], set(lines[1:])
    body |= symbols
    path.write_text("\n".join(header + sorted(body, key=str.lower)) + "\n", encoding="utf-8")
    print(f"{path}: {len(symbols)} symbol(s) recorded")
for symbol in sorted(removed):
    print(f"no longer public (delete it from its PublicAPI file): {symbol}")
PY
