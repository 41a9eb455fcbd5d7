#!/usr/bin/env bash
# A graceful stop loses nothing.  A loaded pipeline
#   etl-extract-http | etl-map total.so [| etl-batch] | etl-load-sql
# under 64 connections is stopped the way systemd (KillMode=control-group)
# and Ctrl-C stop it: the signal to every process of it at once.  Every
# request answered 2xx must be a row, every stage must exit 0 and nothing
# may say "Broken pipe".  Then the stop's deadline (--stop-timeout), a
# second signal, and the example systemd unit stopped as systemd does.
. "$(dirname "$0")/../lib.sh"
X=${ETL_TRANSFORMS:-$ETL_TOP/build/obj}
LOAD=$ETL_TOP/tests/load-client.py
UNIT=$ETL_TOP/examples/systemd/etl-webhook.service

# pgroup_wait PGID SECONDS : until no process of the group is left; 1 on timeout
pgroup_wait() {
	local i
	for i in $(seq 1 $(($2 * 20))); do
		pgrep -g "$1" >/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# wait_lines N FILE : up to 20 s for FILE to have N lines
wait_lines() {
	local i
	for i in $(seq 1 400); do
		[ -f "$2" ] && [ "$(wc -l <"$2")" -ge "$1" ] && return 0
		sleep 0.05
	done
	echo "fewer than $1 lines in $2"
	return 1
}

# answered_are_rows ROWS : every order_id in "answered" is in ROWS (a file)
answered_are_rows() {
	sort -u answered >answered.sorted && sort -u "$1" >rows.sorted &&
	comm -23 answered.sorted rows.sorted >lost &&
	[ -s answered ] || { echo "no request was answered: the load did not start"; return 1; }
	[ ! -s lost ] || { echo "$(wc -l <lost) of $(wc -l <answered) answered requests are no row, e.g. $(head -n 3 lost | tr "\n" " ")"; return 1; }
}

# stop_loaded SIGNAL LOADER_STAGE [BATCH_STAGE] : one loaded stop.  The
# stages of the pipeline run in their own process group, under a shell that
# ignores the signal and records every stage's exit status.
stop_loaded() {
	local sig=$1 loader=$2 batch=${3:-} port pgid client
	rm -f answered status err
	port=$(free_port) || return 1
	setsid bash -c "trap \"\" TERM INT
		etl-extract-http 127.0.0.1:$port | etl-map $X/bench/total.so ${batch:+| $batch} | $loader
		echo \"\${PIPESTATUS[*]}\" >status" 2>err &
	pgid=$!
	wait_port "$port" || { kill -KILL -- -"$pgid"; return 1; }
	python3 "$LOAD" "$port" answered 64 60 2>client.err &
	client=$!
	wait_lines $((200 + RANDOM % 800)) answered || { kill -KILL -- -"$pgid"; return 1; }
	[ -z "${LOCK_DB:-}" ] || { lock_sqlite "$LOCK_DB" 2 & wait_for . locked || { kill -KILL -- -"$pgid"; return 1; }; }
	kill -"$sig" -- -"$pgid"
	pgroup_wait "$pgid" 60 || { echo "the pipeline did not end within 60 s"; kill -KILL -- -"$pgid"; return 1; }
	wait "$client"
	expect_output status "0 0 0${batch:+ 0}" &&
	if grep -E "Broken pipe|gave up" err; then return 1; fi
}

# lock_sqlite DB SECONDS : hold the database's write lock SECONDS long (a
# loader that is slow, blocked in its commit, when the signal comes);
# "locked" says it is held.
lock_sqlite() {
	python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open("locked", "w").write("locked\n")
time.sleep(float(sys.argv[2]))
c.execute("COMMIT")' "$1" "$2"
}

orders_table() {
	sqlite3 "$1" "CREATE TABLE orders (order_id INTEGER PRIMARY KEY, total REAL, shipping_address TEXT)"
}

for sig in TERM INT; do
	for speed in fast slow; do
		for batch in "" "etl-batch -n 100"; do
			title="SIG$sig to a loaded pipeline, $speed loader${batch:+, with $batch}: every 2xx is a row"
			test_expect_success "$title" '
				for run in 1 2; do
					rm -f o.db locked && orders_table o.db &&
					if [ '"$speed"' = slow ]; then LOCK_DB=o.db; else LOCK_DB=; fi &&
					LOCK_DB=$LOCK_DB stop_loaded '"$sig"' "etl-load-sql -t orders sqlite:$T/o.db" "'"$batch"'" &&
					sqlite3 o.db "SELECT order_id FROM orders" >rows &&
					answered_are_rows rows || { echo "run $run"; cat err client.err; exit 1; }
					wait
				done
			'
		done
	done
done

test_expect_success 'SIGTERM to a loaded pipeline into PostgreSQL, with etl-batch: every 2xx is a row' '
	need_pg
	for run in 1 2; do
		pg_run "DROP TABLE IF EXISTS stop_orders; CREATE TABLE stop_orders (order_id BIGINT PRIMARY KEY, total NUMERIC(12,2), shipping_address TEXT)" >/dev/null &&
		stop_loaded TERM "etl-load-sql -t stop_orders $ETL_TEST_PGURL" "etl-batch -n 100" &&
		pg_run "SELECT order_id FROM stop_orders" >rows &&
		answered_are_rows rows || { echo "run $run"; cat err client.err; exit 1; }
	done
'

test_expect_success 'after SIGTERM a stage reads its input to the end, then exits 0' '
	mkfifo fifo || exit 1
	{ echo "{\"a\":1}"; sleep 1; echo "{\"a\":2}"; } >fifo &
	etl-batch -n 100 <fifo >out 2>err &
	batcher=$! &&
	sleep 0.3 && kill -TERM $batcher &&
	wait $batcher &&
	expect_output out "[{\"a\":1},{\"a\":2}]" &&
	expect_lines 0 err
'

test_expect_success '--stop-timeout: what was read and what the input pipe still brought are counted, exit 75' '
	mkfifo fifo || exit 1
	# After the deadline, three more records and the start of a fourth,
	# then the writer closes the pipe.
	{ printf "{\"a\":1}\n{\"a\":2}\n"; sleep 1; printf "{\"a\":3}\n[{\"a\":4},{\"a\":5}]\n{\"\$etl\":{}}\n{\"a\":"; } >fifo &
	writer=$!
	etl-batch -n 100 --stop-timeout 500ms <fifo >out 2>err &
	batcher=$! &&
	sleep 0.3 && kill -TERM $batcher
	wait $batcher; status=$?
	kill $writer 2>/dev/null
	expect_eq 75 $status "exit status" &&
	expect_output err "etl-batch: stop: gave up after --stop-timeout 0.5s: 5 records were not delivered: 2 of the 2 read and 3 left in the input" &&
	expect_lines 0 out
'

test_expect_success '--stop-timeout: a file is left unread, not counted' '
	seq 1 300000 | sed "s/.*/{\"a\":&}/" >in || exit 1
	# Its output never read: it blocks on the full pipe.
	{ sh -c "echo \$\$ >pid; exec etl-batch -n 1 --stop-timeout 300ms in" 2>err; echo $? >status; } |
		sh -c "echo \$\$ >reader.pid; exec sleep 30" &
	wait_for . pid && sleep 0.2 && kill -TERM "$(cat pid)" &&
	wait_for . status &&
	kill "$(cat reader.pid)"
	expect_output status 75 &&
	expect_grep "^etl-batch: stop: gave up after --stop-timeout 0.3s: [0-9]+ of [0-9]+ records read were not delivered; input was left unread$" err
'

test_expect_success '--stop-timeout holds a loader blocked in its commit to the deadline' '
	orders_table o.db && mkfifo fifo || exit 1
	etl-load-sql --stop-timeout 1s -T 50ms -t orders sqlite:$T/o.db <fifo 2>err &
	loader=$!
	exec 3>fifo
	echo "{\"order_id\":1,\"total\":1}" >&3
	for _ in $(seq 1 200); do [ "$(sqlite3 o.db "SELECT count(*) FROM orders" 2>/dev/null)" = 1 ] && break; sleep 0.05; done
	lock_sqlite o.db 20 &
	wait_for . locked || exit 1
	printf "{\"order_id\":%d,\"total\":1}\n" 2 3 4 >&3 &&
	sleep 0.3 && kill -TERM $loader
	started=$SECONDS
	wait $loader; status=$?
	exec 3>&-
	expect_eq 75 $status "exit status" &&
	test $((SECONDS - started)) -lt 8 || { echo "it took $((SECONDS - started)) s"; exit 1; }
	expect_output err "etl-load-sql: stop: gave up after --stop-timeout 1s: 3 records were not delivered: 3 of the 4 read and 0 left in the input, which was still open after 1s"
'

test_expect_success 'a second SIGINT gives up at once, saying what it dropped' '
	mkfifo fifo || exit 1
	{ echo "{\"a\":1}"; sleep 30; } >fifo &
	writer=$!
	etl-batch -n 100 <fifo >out 2>err &
	batcher=$! &&
	sleep 0.3 && kill -INT $batcher && sleep 0.2 && kill -INT $batcher
	wait $batcher; status=$?
	kill $writer
	expect_eq 75 $status "exit status" &&
	expect_output err "etl-batch: stop: gave up at a second SIGINT: 1 records were not delivered: 1 of the 1 read and 0 left in the input, which was still open after 1s"
'

test_expect_success 'a stop ends input typed at a terminal at once' '
	mkfifo keys || exit 1
	script -qec "echo \$\$ >pid; exec etl-batch -n 100" /dev/null <keys >tty &
	exec 3>keys  # the keyboard: open, nothing typed
	wait_for . pid && sleep 0.3 &&
	kill -0 "$(cat pid)" || { echo "etl-batch did not wait for the terminal"; exit 1; }
	kill -TERM "$(cat pid)"
	for _ in $(seq 1 100); do kill -0 "$(cat pid)" 2>/dev/null || break; sleep 0.05; done
	! kill -0 "$(cat pid)" 2>/dev/null || { kill "$(cat pid)"; echo "etl-batch still waits for the terminal"; exit 1; }
'

test_expect_success '--stop-timeout is in --help and needs a duration' '
	for p in etl-map etl-batch etl-load-sql; do
		$p --help >out && expect_grep "stop-timeout DURATION" out || exit 1
	done &&
	expect_status 64 etl-batch --stop-timeout soon 2>err &&
	expect_grep "is not a duration" err &&
	etl-extract-http --help >out && expect_grep "stop-timeout DURATION" out &&
	expect_grep "max-backlog DURATION" out
'

# systemd_stop : run the example unit's ExecStart as systemd runs it (its own
# process group standing in for the unit's cgroup, the socket passed as fd 3
# with LISTEN_FDS and LISTEN_PID), load it, then stop it as systemd does per
# the unit's KillMode and TimeoutStopSec: SIGTERM to every process
# (control-group) or to the main one (mixed, process); when the main process
# exits first, the rest get SIGTERM again (control-group) or SIGKILL (mixed);
# at TimeoutStopSec, SIGKILL to all that is left.  Writes "stop.log".
systemd_stop() {
	local port main mode timeout main_gone= deadline
	mode=$(sed -n "s/^KillMode=//p" "$UNIT"); mode=${mode:-control-group}
	timeout=$(sed -n "s/^TimeoutStopSec=\([0-9]*\)s*$/\1/p" "$UNIT"); timeout=${timeout:-90}
	port=$(free_port) || return 1
	mkdir -p run etc var && printf "webhook secret\n" >etc/github.secret &&
	sqlite3 o.db "CREATE TABLE orders (order_id INTEGER PRIMARY KEY, product_id INTEGER, quantity INTEGER, amount REAL, shipping REAL, tax REAL, total REAL, shipping_address TEXT)" || return 1
	DATABASE_URL=sqlite:$T/o.db python3 -c '
import os, shlex, socket, sys
unit, port, top, examples = sys.argv[1:5]
line = next(l for l in open(unit) if l.startswith("ExecStart="))
argv = shlex.split(line[len("ExecStart="):])
for old, new in (("/run/etl-webhook", top + "/run"), ("/etc/etl", top + "/etc"),
                 ("/usr/local/lib/etl", examples), ("/var/lib/etl", top + "/var")):
    argv = [a.replace(old, new) for a in argv]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(port)))
s.listen(128)
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.setsid()
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
os.execv(argv[0], argv)' "$UNIT" "$port" "$T" "$X/examples" 2>err &
	main=$!
	wait_port "$port" && python3 "$LOAD" "$port/orders" answered 64 60 etc/github.secret 2>client.err &
	wait_lines $((100 + RANDOM % 300)) answered || { kill -KILL -- -"$main"; return 1; }
	echo "KillMode=$mode: SIGTERM" >stop.log
	if [ "$mode" = control-group ]; then kill -TERM -- -"$main"; else kill -TERM "$main"; fi
	deadline=$((SECONDS + timeout))
	while pgrep -g "$main" >/dev/null; do
		if [ -z "$main_gone" ] && ! kill -0 "$main" 2>/dev/null; then
			main_gone=1
			if pgrep -g "$main" >/dev/null; then
				echo "the main process exited first: the rest get $([ "$mode" = control-group ] && echo SIGTERM || echo SIGKILL)" >>stop.log
				if [ "$mode" = control-group ]; then kill -TERM -- -"$main"; else kill -KILL -- -"$main"; fi
			fi
		fi
		if [ $SECONDS -ge $deadline ]; then
			echo "TimeoutStopSec passed: SIGKILL" >>stop.log
			kill -KILL -- -"$main"
			deadline=$((SECONDS + 3600))
		fi
		sleep 0.05
	done
	wait "$main"; echo "exit status $?" >>stop.log
	wait
}

test_expect_success 'the systemd unit stops as systemd stops it: answered orders are rows, exit 0' '
	for run in 1 2 3; do
		rm -rf o.db run answered && systemd_stop &&
		expect_output stop.log "$(printf "KillMode=control-group: SIGTERM\nexit status 0")" &&
		sqlite3 o.db "SELECT order_id FROM orders" >rows &&
		answered_are_rows rows &&
		if grep -E "Broken pipe|gave up" err; then exit 1; fi || { echo "run $run"; cat err client.err; exit 1; }
	done
'
