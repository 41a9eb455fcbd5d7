#!/usr/bin/env bash
# tests/cluster.sh start|stop|stop-nats I|start-nats I|stop-my I|start-my I DIR
#
# Two throwaway clusters on loopback, in DIR, for the scale test and its
# benchmark: three nats-server nodes with JetStream forming one cluster, and
# three MariaDB nodes forming one Galera cluster (the first bootstrapped, the
# others joining it by rsync SST).  Every port is free and below the kernel's
# ephemeral range.  start returns once both are healthy: JetStream has a meta
# leader and each Galera node says wsrep_ready=ON in a cluster of size 3.
#
# start writes DIR/env, a shell file exporting:
#   ETL_CLUSTER_NATSURL     nats://127.0.0.1:P1,nats://127.0.0.1:P2,...
#   ETL_CLUSTER_NATSURL1..3 each server alone
#   ETL_CLUSTER_MYURL1..3   mysql://etl:etl@127.0.0.1:PORT/etl_test, per node
#   ETL_CLUSTER_MYSQL1..3   admin client command per node (no password)
#   ETL_CLUSTER             DIR
# stop-nats/stop-my I stop node I (1-3) by its pid; start-nats/start-my I
# start it again on the same ports and data, and wait until it is back in
# its cluster.  stop stops everything and removes DIR.  Galera's folders
# belong to the mysql user when we are root (its rsync SST daemon runs
# unprivileged), and mariadbd runs as that user.
set -eu
cmd=${1:-}
case $cmd in stop-*|start-*) node=${2:-}; dir=${3:-} ;; *) node=""; dir=${2:-} ;; esac
[ -n "$dir" ] || { echo "usage: tests/cluster.sh start|stop|stop-nats I|start-nats I|stop-my I|start-my I DIR" >&2; exit 64; }
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
galera=/usr/lib/galera/libgalera_smm.so

die() { echo "tests/cluster.sh: $*" >&2; exit 1; }
port_free() { ! (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { [ -f "$1" ] && kill -0 "$(head -n 1 "$1")" 2>/dev/null; }
myuser() { if [ "$(id -u)" -eq 0 ]; then echo mysql; else id -un; fi; }

# Eighteen free ports from a random base below 32768, one per line in
# DIR/ports: nats client 1-3, nats route 1-3, mysql 1-3, gcomm 1-3, ist 1-3,
# sst 1-3.
pick_ports() {
	local p=$((12000 + RANDOM % 18000)) n=0
	: >"$dir/ports"
	while [ $n -lt 18 ]; do
		if port_free "$p"; then echo "$p" >>"$dir/ports"; n=$((n + 1)); fi
		p=$((p + 1))
	done
}
port() { sed -n "$1p" "$dir/ports"; }  # N : the Nth port of DIR/ports
nats_port() { port "$1"; }
route_port() { port $((3 + $1)); }
my_port() { port $((6 + $1)); }
gcomm_port() { port $((9 + $1)); }
ist_port() { port $((12 + $1)); }
sst_port() { port $((15 + $1)); }

# --- NATS ---------------------------------------------------------------

nats_conf() {  # I
	local i=$1 d=$dir/n$1
	mkdir -p "$d/js"
	cat >"$d/nats.conf" <<-CONF
	server_name: n$i
	host: 127.0.0.1
	port: $(nats_port "$i")
	pid_file: "$d/pid"
	log_file: "$d/log"
	jetstream {
	  store_dir: "$d/js"
	  max_memory_store: 64MB
	  max_file_store: 2GB
	}
	cluster {
	  name: etl
	  listen: 127.0.0.1:$(route_port "$i")
	  routes: [
	    nats-route://127.0.0.1:$(route_port 1)
	    nats-route://127.0.0.1:$(route_port 2)
	    nats-route://127.0.0.1:$(route_port 3)
	  ]
	}
	CONF
}

nats_start() {  # I
	local i=$1
	nats-server -c "$dir/n$i/nats.conf" >/dev/null 2>&1 &
	for _ in $(seq 1 200); do
		alive "$dir/n$i/pid" && ! port_free "$(nats_port "$i")" && return 0
		sleep 0.05
	done
	cat "$dir/n$i/log" >&2 2>/dev/null
	die "nats-server $i did not start"
}

nats_stop() {  # I
	local f=$dir/n$1/pid pid
	alive "$f" || return 0
	pid=$(cat "$f")
	kill "$pid"
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || { rm -f "$f"; return 0; }
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$f"
}

# JetStream in the cluster is ready when a server answers $JS.API.INFO
# (which needs a meta leader) and every server is routed to the others.
nats_wait() {  # I... : the servers to ask
	local i out
	for _ in $(seq 1 600); do
		for i in "$@"; do
			out=$(timeout 5 python3 "$top/tests/natsclient.py" req \
				"nats://127.0.0.1:$(nats_port "$i")" '$JS.API.INFO' 2>/dev/null) || out=""
			case $out in *account_info_response*) ;; *) sleep 0.2; continue 2 ;; esac
			case $out in *'"error"'*) sleep 0.2; continue 2 ;; esac
		done
		return 0
	done
	die "the NATS cluster has no JetStream meta leader"
}

# --- Galera -------------------------------------------------------------

my_admin() {  # I SQL...
	local i=$1; shift
	mariadb --no-defaults --socket="$dir/g$i/sock" -uroot -N -B "$@"
}

my_start() {  # I [--wsrep-new-cluster]
	local i=$1 d=$dir/g$1; shift
	mariadbd --no-defaults --datadir="$d/data" --socket="$d/sock" --tmpdir="$d/tmp" \
		--port="$(my_port "$i")" --bind-address=127.0.0.1 --user="$(myuser)" \
		--pid-file="$d/pid" --log-error="$d/err.log" \
		--innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=128M \
		--max-allowed-packet=64M --max-connections=200 \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
		--wsrep-on=ON --wsrep-provider="$galera" \
		--wsrep-cluster-name=etl \
		--wsrep-cluster-address="gcomm://127.0.0.1:$(gcomm_port 1),127.0.0.1:$(gcomm_port 2),127.0.0.1:$(gcomm_port 3)" \
		--wsrep-node-address=127.0.0.1 --wsrep-node-name="g$i" \
		--wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$i");ist.recv_addr=127.0.0.1:$(ist_port "$i");gcache.size=256M" \
		--wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$(sst_port "$i")" \
		--binlog-format=ROW --innodb-autoinc-lock-mode=2 --default-storage-engine=InnoDB \
		"$@" >/dev/null 2>&1 &
	my_wait "$i"
}

my_wait() {  # I : up to 3 min for node I to be synced in a cluster of 3
	local i=$1 out
	for _ in $(seq 1 1800); do
		out=$(my_admin "$i" -e "SHOW STATUS WHERE Variable_name IN ('wsrep_ready','wsrep_cluster_size','wsrep_local_state_comment')" 2>/dev/null) || { sleep 0.1; continue; }
		case $out in *wsrep_ready*ON*) ;; *) sleep 0.1; continue ;; esac
		case $out in *Synced*) ;; *) sleep 0.1; continue ;; esac
		[ "${want_size:-}" = "" ] && return 0
		case $out in *"wsrep_cluster_size	$want_size"*) return 0 ;; esac
		sleep 0.1
	done
	tail -n 30 "$dir/g$i/err.log" >&2
	die "Galera node $i is not ready"
}

my_stop() {  # I
	local f=$dir/g$1/pid pid
	alive "$f" || return 0
	pid=$(cat "$f")
	kill "$pid"
	for _ in $(seq 1 600); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

my_init() {
	local i
	for i in 1 2 3; do mkdir -p "$dir/g$i/tmp"; done
	[ "$(id -u)" -eq 0 ] && chown mysql "$dir/g1/tmp"
	# A temporary folder of its own, as for the servers: installs running
	# at once on the machine would remove each other's files in /tmp.
	mariadb-install-db --no-defaults --auth-root-authentication-method=normal \
		--datadir="$dir/g1/data" --tmpdir="$dir/g1/tmp" --user="$(myuser)" >"$dir/g1/install.log" 2>&1 ||
		{ cat "$dir/g1/install.log" >&2; die "mariadb-install-db failed"; }
	# The joiners start from a copy of the empty data and catch up by SST.
	cp -a "$dir/g1/data" "$dir/g2/data"
	cp -a "$dir/g1/data" "$dir/g3/data"
	[ "$(id -u)" -eq 0 ] && chown -R mysql "$dir/g1" "$dir/g2" "$dir/g3"
	want_size="" my_start 1 --wsrep-new-cluster
	my_admin 1 <<-SQL
	CREATE DATABASE etl_test CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
	CREATE USER 'etl'@'%' IDENTIFIED BY 'etl';
	CREATE USER 'etl'@'localhost' IDENTIFIED BY 'etl';
	GRANT ALL ON etl_test.* TO 'etl'@'%';
	GRANT ALL ON etl_test.* TO 'etl'@'localhost';
	SQL
	want_size=2 my_start 2
	want_size=3 my_start 3
}

write_env() {
	local i urls=""
	for i in 1 2 3; do urls="$urls${urls:+,}nats://127.0.0.1:$(nats_port "$i")"; done
	{
		echo "export ETL_CLUSTER='$dir'"
		echo "export ETL_CLUSTER_NATSURL='$urls'"
		for i in 1 2 3; do
			echo "export ETL_CLUSTER_NATSURL$i='nats://127.0.0.1:$(nats_port "$i")'"
			echo "export ETL_CLUSTER_MYURL$i='mysql://etl:etl@127.0.0.1:$(my_port "$i")/etl_test'"
			echo "export ETL_CLUSTER_MYSQL$i='mariadb --no-defaults --socket=$dir/g$i/sock -uroot etl_test'"
		done
	} >"$dir/env"
}

stop_all() {
	local i
	for i in 3 2 1; do my_stop "$i"; done
	for i in 1 2 3; do nats_stop "$i"; done
}

top=$(cd "$(dirname "$0")/.." && pwd)
cd /  # the servers' users may not be able to enter the caller's folder
case $node in ""|1|2|3) ;; *) die "no node '$node' (1, 2 or 3)" ;; esac
case $cmd in
start)
	command -v nats-server >/dev/null && command -v mariadbd >/dev/null &&
		[ -f "$galera" ] && command -v rsync >/dev/null ||
		die "nats-server, mariadb-server, galera-4 and rsync are needed (tests/deps.sh)"
	mkdir -p "$dir"
	chmod 755 "$dir"
	trap 'stop_all' ERR
	pick_ports
	for i in 1 2 3; do nats_conf "$i"; nats_start "$i"; done
	my_init
	nats_wait 1 2 3
	trap - ERR
	write_env
	echo "$dir/env"
	;;
stop)
	[ -d "$dir" ] || exit 0
	[ -f "$dir/ports" ] && stop_all
	rm -rf "$dir"
	;;
stop-nats) nats_stop "$node" ;;
start-nats) nats_start "$node"; nats_wait "$node" ;;
stop-my) my_stop "$node" ;;
start-my) want_size=3 my_start "$node" ;;
*)
	echo "usage: tests/cluster.sh start|stop|stop-nats I|start-nats I|stop-my I|start-my I DIR" >&2
	exit 64
	;;
esac
