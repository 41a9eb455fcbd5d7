# bench/bench-lib.sh - helpers for the benchmark scripts (sourced).
#
# Each benchmark runs etl and its peer on the same input in the same run,
# three times each, and reports the ratio of the medians: ratios survive a
# busy or slow machine far better than absolute times.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH=$top/bin:$PATH
data=$top/bench/data
results=$top/bench/results.tsv
mkdir -p "$data"

# bench_data N [-c]: the path of N generated orders (NDJSON, or CSV with -c).
bench_data() {
	local n=$1 kind=${2:-} file
	file=$data/orders-$n${kind:+-csv}.${kind:+csv}
	[ -z "$kind" ] && file=$data/orders-$n.ndjson
	[ -s "$file" ] || "$top/build/gen-orders" $kind "$n" >"$file"
	echo "$file"
}

# bench_time COMMAND: median wall seconds of three runs of a shell command.
bench_time() {
	local times=()
	for _ in 1 2 3; do
		/usr/bin/time -f %e -o "$data/.time" bash -c "$1" >/dev/null 2>&1
		times+=("$(tail -n 1 "$data/.time")")
	done
	printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}

# bench_pair ETL PEER [ROUNDS]: two shell commands run in turn, ROUNDS times
# (5), for a machine whose speed drifts (a database server's does, between
# loads): sets pair_etl and pair_peer to each one's median seconds and
# pair_ratio to the median of the rounds' ratios (peer / etl).
bench_pair() {
	local etl=() peer=() ratio=() i
	for ((i = 0; i < ${3:-5}; i++)); do
		/usr/bin/time -f %e -o "$data/.time" bash -c "$1" >/dev/null 2>&1
		etl+=("$(tail -n 1 "$data/.time")")
		/usr/bin/time -f %e -o "$data/.time" bash -c "$2" >/dev/null 2>&1
		peer+=("$(tail -n 1 "$data/.time")")
		ratio+=("$(awk -v a="${etl[i]}" -v b="${peer[i]}" 'BEGIN { printf "%.3f", (a > 0 ? b / a : 0) }')")
	done
	pair_etl=$(printf '%s\n' "${etl[@]}" | sort -n | sed -n "$((i / 2 + 1))p")
	pair_peer=$(printf '%s\n' "${peer[@]}" | sort -n | sed -n "$((i / 2 + 1))p")
	pair_ratio=$(printf '%s\n' "${ratio[@]}" | sort -n | sed -n "$((i / 2 + 1))p")
}

# bench_rss COMMAND: peak RSS in MB of a command (the command itself, not
# a pipeline around it).
bench_rss() {
	local kb
	/usr/bin/time -f %M -o "$data/.time" bash -c "exec $1" >/dev/null 2>&1
	kb=$(tail -n 1 "$data/.time")
	awk -v kb="$kb" 'BEGIN { printf "%.1f", kb / 1024 }'
}

# bench_report NAME ETL_SECONDS PEER_SECONDS [RSS_MB] [TARGET] [RATIO]: a
# ratio line (peer time / etl time, or RATIO, bench_pair's: above 1 means
# etl is faster) and a row in bench/results.tsv.
bench_report() {
	local name=$1 etl=$2 peer=$3 rss=${4:-} target=${5:-} ratio=${6:-}
	[ -n "$ratio" ] || ratio=$(awk -v a="$etl" -v b="$peer" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
	ratio=$(printf '%.2f' "$ratio")
	printf '%-44s %5sx  (etl %6.2f s, peer %6.2f s)%s%s\n' "$name" "$ratio" "$etl" "$peer" \
		"${rss:+  peak RSS $rss MB}" "${target:+  target $target}"
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$etl" "$peer" "$ratio" "$rss" >>"$results"
}
