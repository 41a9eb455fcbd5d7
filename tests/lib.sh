# tests/lib.sh - the harness for tests/t/*.sh scripts, after git's t/.
#
#	. "$(dirname "$0")/../lib.sh"   (or tests/lib.sh from the top)
#	test_expect_success 'batches by count' '
#		printf "{}\n{}\n{}\n" | etl-batch -n 2 >out &&
#		expect_lines 2 out
#	'
#
# Each test body runs in a subshell in a fresh scratch folder ($T); it
# passes when it exits 0.  The expect_* helpers print what was expected and
# what came out, so a failure says where to start.  Tests that need
# PostgreSQL, MariaDB or NATS call need_pg / need_my / need_nats first: without the server
# they skip, except under CI=true where a missing server is a failure.
set -u
ETL_TOP=${ETL_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
ETL_BIN=${ETL_BIN:-$ETL_TOP/bin}
PATH=$ETL_BIN:$PATH
export ETL_TOP ETL_BIN PATH
TEST_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/etl-t.XXXXXX")
trap 'rm -rf "$TEST_ROOT"' EXIT
# python3 is Debian's, whatever comes first on PATH: a version manager's
# shim (pyenv's) takes a tenth of a second and more to start each time, and
# lacks the Debian modules the tests read databases with.
if [ -x /usr/bin/python3 ]; then
	mkdir "$TEST_ROOT/bin" && ln -s /usr/bin/python3 "$TEST_ROOT/bin/python3" &&
		PATH=$ETL_BIN:$TEST_ROOT/bin:$PATH
fi
test_count=0

# Kill what a test body left running: its jobs and their children.
reap_jobs() {
	local status=$? pid
	for pid in $(jobs -p); do
		pkill -TERM -P "$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
	done
	return $status
}

test_expect_success() {
	local title=$1 body=$2 status
	test_count=$((test_count + 1))
	T=$TEST_ROOT/$test_count
	mkdir -p "$T"
	# The body's background jobs (servers, writers) end with it, even when
	# it fails half-way.
	(cd "$T" && trap 'reap_jobs' EXIT && eval "$body") >"$TEST_ROOT/log" 2>&1 </dev/null
	status=$?
	if [ $status -eq 0 ]; then
		echo "ok - $title"
	elif [ $status -eq 77 ]; then
		echo "skip - $title: $(tail -n 1 "$TEST_ROOT/log")"
	else
		echo "not ok - $title"
		sed 's/^/# /' "$TEST_ROOT/log" | tail -n 40
	fi
}

# Skip (exit 77) unless a server is there; under CI a missing one fails.
need_server() {
	if [ -z "${2:-}" ]; then
		if [ "${CI:-}" = true ]; then
			echo "$1 is required under CI=true but \$$3 is not set"
			return 1
		fi
		echo "no $1 (set \$$3 or run tests/dbs.sh start)"
		exit 77
	fi
}
# The database of the URLs above: each test file running beside others has
# one of its own (tests/run).
ETL_TEST_DB=${ETL_TEST_DB:-etl_test}
need_pg() { need_server PostgreSQL "${ETL_TEST_PGURL:-}" ETL_TEST_PGURL; }
pg_run() { $ETL_TEST_PSQL -tA -c "$1"; }  # SQL : one query, unaligned
need_my() { need_server MariaDB "${ETL_TEST_MYURL:-}" ETL_TEST_MYURL; }
need_nats() { need_server nats-server "${ETL_TEST_NATSURL:-}" ETL_TEST_NATSURL; }

expect_eq() {  # EXPECTED ACTUAL [WHAT]
	[ "$1" = "$2" ] && return 0
	echo "${3:-value}: expected '$1', got '$2'"
	return 1
}

expect_status() {  # N COMMAND... : run COMMAND, its status must be N
	local want=$1 got; shift
	"$@"; got=$?
	[ "$got" -eq "$want" ] && return 0
	echo "exit status of '$*': expected $want, got $got"
	return 1
}

expect_file_eq() {  # EXPECTED_FILE ACTUAL_FILE
	cmp -s "$1" "$2" && return 0
	echo "$2 differs from $1:"
	diff -u "$1" "$2" | head -n 30
	return 1
}

expect_output() {  # FILE TEXT : FILE holds exactly TEXT (plus a final newline)
	printf '%s\n' "$2" >"$TEST_ROOT/expected.$$"
	expect_file_eq "$TEST_ROOT/expected.$$" "$1"
}

expect_grep() {  # PATTERN FILE : an extended regex must match a line of FILE
	grep -qE -- "$1" "$2" && return 0
	echo "no line of $2 matches '$1'; it holds:"
	head -c 2000 "$2"
	return 1
}

expect_no_grep() {  # PATTERN FILE
	grep -qE -- "$1" "$2" || return 0
	echo "$2 should not match '$1' but does:"
	grep -E -- "$1" "$2" | head -n 5
	return 1
}

expect_lines() {  # N FILE : FILE has exactly N lines
	local n
	n=$(wc -l <"$2")
	expect_eq "$1" "$n" "lines in $2"
}

# A TCP port on 127.0.0.1 that nothing listens on now, below the kernel's
# ephemeral range: a port in that range may be the local end of some
# client's connection, and then bind fails with "Address already in use".
free_port() {
	local port low=32768
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	[ "$low" -gt 12000 ] || low=32768
	for _ in $(seq 1 200); do
		port=$((10000 + RANDOM % (low - 10000)))
		(echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
	done
	return 1
}

# Wait up to 10 s for a TCP port on 127.0.0.1 to accept connections.
wait_port() {
	for _ in $(seq 1 200); do
		(echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nothing listens on port $1"
	return 1
}

# wait_for PATTERN FILE : up to 10 s for a line of FILE to match the
# extended regex PATTERN
# wait_ready PID : until process PID has set up its signals (it catches or
# blocks SIGTERM), up to 20 s: a SIGTERM or SIGUSR1 sent before that kills it.
wait_ready() {
	local m
	for _ in $(seq 1 400); do
		for m in $(awk '$1 == "SigBlk:" || $1 == "SigCgt:" { print $2 }' "/proc/$1/status" 2>/dev/null); do
			(((0x$m >> 14) & 1)) && return 0
		done
		sleep 0.05
	done
	echo "process $1 did not set up its signals within 20 s"
	return 1
}

wait_for() {
	for _ in $(seq 1 200); do
		grep -Eq "$1" "$2" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "no line matching $1 in $2:"
	cat "$2"
	return 1
}

# hwm_kib PID : the peak resident memory of PID, in KiB
hwm_kib() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}
