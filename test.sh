#!/usr/bin/env bash
# Runs every test of the solution. First installs what the tests need when it is missing (redis-server, MariaDB,
# Chromium and chromedriver from Debian's packages; the Consul agent from Debian bullseye's consul package, unpacked into .tools/consul), then
# `dotnet test`. Test fixtures start their own server instances on free loopback ports, in
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
# The status page's browser test: Debian's Chromium and its driver, run headless.
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Consul agent: Debian's current suite has no consul package; the previous one (bullseye) ships 1.8.7. It is
# downloaded with a sources list of its own, built from the mirror this machine's apt already uses (no host is named
# here), and unpacked into .tools/consul (ignored by git); nothing is installed system-wide.
consul_bin="$PWD/.tools/consul/usr/bin/consul"
if [ ! -x "$consul_bin" ]; then
    echo "test.sh: fetching the Consul agent (Debian bullseye's consul package)"
    mirror=$( { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}';
                grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | sed -E 's/^deb (\[[^]]*\] )?//' | awk '{print $1}'; } \
              | grep -v -- '-security' | head -n 1 || true)
    if [ -z "$mirror" ]; then
        echo "test.sh: no Debian mirror found in /etc/apt/sources.list*; cannot fetch consul" >&2
        exit 1
    fi
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bullseye main" > "$work/sources.list"
    apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Get::List-Cleanup=0)
    [ "$(id -u)" -eq 0 ] && apt_opts+=(-o APT::Sandbox::User=root)
    apt-get "${apt_opts[@]}" update -qq
    (cd "$work" && apt-get "${apt_opts[@]}" download -qq consul)
    rm -rf .tools/consul
    mkdir -p .tools/consul
    dpkg-deb -x "$work"/consul_*.deb .tools/consul
    # Not piped into head: consul would die of SIGPIPE, and pipefail would end the script.
    consul_version=$("$consul_bin" version)
    echo "test.sh: ${consul_version%%$'\n'*}"
fi
export CHECKUPS_CONSUL="$consul_bin"

results="${TEST_RESULTS_DIR:-$PWD/TestResults}"
rm -rf "$results"
# Built whole first: the packaging test packs the libraries from their build output, which must not be rebuilt by the
# test run's own build while it reads it (a project that other projects build again for net8.0 is briefly missing).
dotnet build Checkups.sln -c Release -nologo
dotnet test Checkups.sln -c Release --no-build --logger trx --results-directory "$results" "$@"
