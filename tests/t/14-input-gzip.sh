#!/usr/bin/env bash
# Gzip input at every size: every program that reads records (etl-batch,
# etl-map, etl-load-sql into SQLite) on gzip and multi-member gzip files,
# from file arguments, standard input and pipes written in uneven pieces,
# at decompressed and compressed sizes around every buffer and chunk edge
# (the reader's 64 KiB compressed and 256 KiB plain reads, the 1 MiB pipe),
# compared value for value with zcat and jq.
. "$(dirname "$0")/../lib.sh"
. "$ETL_TOP/tests/input.sh"
# Compressed sizes: each edge -1/0/+1, or under the sanitizers each edge and
# one past it.
gzsizes="65535 65536 65537 262143 262144 262145 1048575 1048576 1048577"
[ -z "${ETL_SANITIZE:-}" ] || gzsizes="65536 65537 262144 262145 1048576 1048577"

test_expect_success 'gzip input of every size (decompressed), every program, every way in' '
	for n in $sizes; do
		inputgen sized "$n" | gzip >in.gz && every_way in.gz "gzip of $n bytes" || exit 1
	done
'

test_expect_success 'gzip input of every compressed size around the chunk edges' '
	for n in $gzsizes; do
		inputgen gzip-sized "$n" >in.gz &&
		expect_eq "$n" "$(wc -c <in.gz)" "compressed size" &&
		every_way in.gz "a gzip file of $n bytes" || exit 1
	done
'

test_expect_success 'multi-member gzip: members cut inside lines, at chunk edges' '
	for n in 65537 262145 1048577; do
		inputgen sized "$n" >plain &&
		{ head -c 65536 plain | gzip; tail -c +65537 plain | head -c 1000 | gzip -1;
		  tail -c +66537 plain | gzip -9; } >in.gz &&
		cmp plain <(zcat in.gz) &&
		every_way in.gz "three gzip members of $n bytes" || exit 1
	done
'
