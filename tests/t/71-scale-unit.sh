#!/usr/bin/env bash
# The scale recipe's systemd template unit: hardened as the webhook unit
# (systemd-analyze security exposure 1.5 or lower), its instance name
# reaching the files it names, and its pipeline the one examples/scale runs.
. "$(dirname "$0")/../lib.sh"
U=$ETL_TOP/examples/systemd/etl-loader@.service

test_expect_success 'etl-loader@.service is hardened: systemd-analyze security exposure 1.5 or lower' '
	command -v systemd-analyze >/dev/null || { echo "systemd-analyze is not installed"; exit 77; }
	cp "$U" . &&
	systemd-analyze security --offline=true --no-pager etl-loader@2.service >report 2>&1;
	score=$(sed -n "s/^.*Overall exposure level for etl-loader@2\.service: \([0-9.]*\) .*$/\1/p" report) &&
	echo "exposure $score" && test -n "$score" &&
	expect_eq 1 "$(awk -v s="$score" "BEGIN { print (s <= 1.5) }")" "exposure $score at most 1.5"
'

test_expect_success 'etl-loader@.service runs the back pipeline of examples/scale, per instance' '
	exec_line=$(grep "^ExecStart=" "$U") &&
	for w in "--stream ORDERS" "--durable loaders" "--ack-fifo /run/etl-loader-%i/acks" \
		"order.so" "--ignore-duplicates" "-t orders" "\"orders.*\""; do
		case $exec_line in *"$w"*) ;; *) echo "ExecStart lacks $w"; exit 1 ;; esac
	done &&
	expect_grep "^EnvironmentFile=/etc/etl/loader-%i.env$" "$U" &&
	expect_grep "^RuntimeDirectory=etl-loader-%i$" "$U" &&
	expect_grep "orders.\\*" "$ETL_TOP/examples/scale/back.sh" &&
	expect_grep "orders.\\{front\\}" "$ETL_TOP/examples/scale/setup.sh"
'
