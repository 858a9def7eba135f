#!/usr/bin/env bash
# Runs every test of the solution. First installs what the tests need when it is missing (redis-server and MariaDB from
# Debian's packages), then `dotnet test`. Test fixtures start their own server instances on free loopback ports, in
# temporary directories, and stop them by PID; no system service is used.
# Results (trx) go to $TEST_RESULTS_DIR (default: ./TestResults). Extra arguments go to `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
    echo "test.sh: the .NET SDK (dotnet) is required; see global.json for the version." >&2
    exit 1
fi

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

missing=()
have redis-server || missing+=(redis-server)
{ have mariadbd && have mariadb-install-db && have mariadb; } || missing+=(mariadb-server)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

results="${TEST_RESULTS_DIR:-$PWD/TestResults}"
rm -rf "$results"
dotnet test Checkups.sln -c Release --logger trx --results-directory "$results" "$@"
