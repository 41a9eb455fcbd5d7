#!/usr/bin/env bash
# tests/deps.sh [--bench] - make sure the Debian packages etl needs are here.
#
# Quiet and quick when everything is installed (make check calls it every
# time).  As root it installs what is missing with apt-get; otherwise it
# prints the exact command to run and exits 1.
set -eu

build="gcc make pkg-config libjansson-dev libpq-dev libmariadb-dev
	libmicrohttpd-dev libgnutls28-dev nettle-dev libsqlite3-dev zlib1g-dev
	libyajl-dev libcurl4-gnutls-dev libnats-dev libseccomp-dev"
test="postgresql mariadb-server mariadb-client curl jq sqlite3 mandoc zsh
	bash-completion clang libclang-rt-dev procps bsdutils time gzip openssl
	python3 xxd nats-server prometheus sslscan wrk galera-4 rsync"
bench="wrk hyperfine nginx-light gnuplot-nox pgloader miller"

wanted="$build $test"
[ "${1:-}" = --bench ] && wanted="$wanted $bench"

missing=""
for p in $wanted; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $status in *" installed") ;; *) missing="$missing $p" ;; esac
done
# Node.js may come from elsewhere than Debian: a working node will do.
if [ "${1:-}" = --bench ] && ! command -v node >/dev/null; then
	missing="$missing nodejs"
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "etl needs these Debian packages:$missing" >&2
	echo "install them with: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "tests/deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists unless they are recent (CI starts with none).
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -360 2>/dev/null | head -n 1)" ]; then
	apt-get update -q >&2
fi
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
