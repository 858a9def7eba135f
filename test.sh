#!/usr/bin/env bash
# Runs every test of the solution. First installs what the tests need when it is missing, then `dotnet test`.
# Test fixtures start their own server instances on free loopback ports and stop them by PID.
# Results (trx) go to $TEST_RESULTS_DIR (default: ./TestResults). Extra arguments go to `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
    echo "test.sh: the .NET SDK (dotnet) is required; see global.json for the version." >&2
    exit 1
fi

results="${TEST_RESULTS_DIR:-$PWD/TestResults}"
rm -rf "$results"
dotnet test Checkups.sln -c Release --logger trx --results-directory "$results" "$@"
