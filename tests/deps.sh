#!/usr/bin/env bash
# tests/deps.sh [--bench|--npm] - make sure the Debian packages etl needs are here.
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
# Node.js may come from elsewhere than Debian: a working node and npm will do.
command -v node >/dev/null || missing="$missing nodejs"
command -v npm >/dev/null || missing="$missing npm"

# The webhook senders' own libraries, from the npm registry, for
# tests/t/63-webhooks.sh: into build/npm, again when this list changes.
npm_dir=$(cd "$(dirname "$0")/.." && pwd)/build/npm
npm_want="stripe@23.2.0 standardwebhooks@1.3.0 @octokit/webhooks-methods@6.0.0 twilio@6.3.1 @slack/bolt@5.1.0"
npm_modules() {
	[ "$(cat "$npm_dir/.installed" 2>/dev/null)" = "$npm_want" ] && return 0
	echo "tests/deps.sh: npm install $npm_want" >&2
	mkdir -p "$npm_dir" &&
	# shellcheck disable=SC2086
	npm install --prefix "$npm_dir" --no-audit --no-fund --loglevel=error $npm_want >&2 &&
	echo "$npm_want" >"$npm_dir/.installed"
}
# --npm: only the npm modules, where npm is already here (make check
# fetches them while it compiles; the full run after the build installs
# npm first where it is missing).
if [ "${1:-}" = --npm ]; then
	command -v npm >/dev/null || exit 0
	npm_modules || echo "tests/deps.sh: npm install failed; trying again after the build" >&2
	exit 0
fi
[ -z "$missing" ] && { npm_modules; exit; }

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
npm_modules
