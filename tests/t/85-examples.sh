#!/usr/bin/env bash
# The jobs in examples/ do what their comments say: the cron script, the
# Makefile job (safe to re-run), the Kafka consumer, the Rust transform and
# the systemd units.
. "$(dirname "$0")/../lib.sh"
X=${ETL_TRANSFORMS:-$ETL_TOP/build/obj}/examples
EX=$ETL_TOP/examples

orders_table() {
	sqlite3 "$1" "CREATE TABLE orders (order_id INTEGER PRIMARY KEY, product_id INTEGER, quantity INTEGER, amount REAL, shipping REAL, tax REAL, total REAL, shipping_address TEXT)"
}

test_expect_success 'the cron script loads, rejects bad orders, and a re-run doubles nothing' '
	orders_table shop.db &&
	"$ETL_TOP/build/gen-orders" 1000 | gzip >export.ndjson.gz &&
	export ETL_TRANSFORM=$X/order.so ETL_REJECTS=$T/rejects DATABASE_URL=sqlite:$T/shop.db &&
	"$EX/cron/load-orders.sh" export.ndjson.gz &&
	"$EX/cron/load-orders.sh" export.ndjson.gz &&
	expect_eq 1000 "$(sqlite3 shop.db "SELECT count(*) FROM orders")" &&
	printf "{\"order_id\":\"x\"}\n" >bad.ndjson &&
	"$EX/cron/load-orders.sh" bad.ndjson && expect_lines 1 rejects &&
	DATABASE_URL=sqlite:/nonexistent/dir/shop.db expect_status 69 "$EX/cron/load-orders.sh" export.ndjson.gz 2>err
'

test_expect_success 'the Makefile job loads each export once and is safe to re-run' '
	mkdir exports && "$ETL_TOP/build/gen-orders" 300 >exports/monday.ndjson &&
	"$ETL_TOP/build/gen-orders" 500 | tail -n 200 >exports/tuesday.ndjson &&
	make -s -f "$EX/jobs/Makefile" TRANSFORM="$X/order.so" DATABASE_URL="sqlite:$T/job.db" >log 2>&1 &&
	expect_eq 500 "$(sqlite3 job.db "SELECT count(*) FROM orders")" &&
	make -f "$EX/jobs/Makefile" TRANSFORM="$X/order.so" DATABASE_URL="sqlite:$T/job.db" >log 2>&1 &&
	expect_grep "Nothing to be done" log &&
	touch exports/monday.ndjson &&
	make -s -f "$EX/jobs/Makefile" TRANSFORM="$X/order.so" DATABASE_URL="sqlite:$T/job.db" >log 2>&1 &&
	expect_eq 500 "$(sqlite3 job.db "SELECT count(*) FROM orders")"
'

test_expect_success 'the Kafka consumer pipes kcat into the pipeline' '
	# No Kafka broker can run here: this KCAT stand-in prints the messages a
	# topic would hold, in kcat -f "%s\n" form, and checks its arguments.
	printf "#!/bin/sh\ncase \"\$*\" in *\"-b broker:9092 -t orders\"*) cat \"%s\" ;; *) exit 2 ;; esac\n" "$EX/order.input.ndjson" >kcat &&
	chmod +x kcat && orders_table kafka.db &&
	KCAT=$T/kcat KAFKA_BROKERS=broker:9092 ETL_TRANSFORM=$X/order.so DATABASE_URL=sqlite:$T/kafka.db \
		expect_status 65 "$EX/kafka/consume.sh" orders 2>err &&
	expect_grep "stdin:3: product_id: not an integer" err &&
	expect_eq 2 "$(sqlite3 kafka.db "SELECT count(*) FROM orders")"
'

test_expect_success 'the Rust transform, built with rustc, runs under etl-map' '
	command -v rustc >/dev/null || { echo "rustc is not installed"; exit 77; }
	printf "{\"name\":\"zoë\",\"n\":1}\n{\"city\":\"oslo\"}\n" | etl-map "$X/upper-rs.so" >out &&
	expect_output out "$(printf "{\"name\":\"ZOË\",\"n\":1}\n{\"city\":\"oslo\"}")" &&
	printf "{\"city\":\"oslo\"}\n" | etl-map "$X/upper-rs.so" city >out &&
	expect_output out "{\"city\":\"OSLO\"}"
'

test_expect_success 'the systemd units pass systemd-analyze verify' '
	command -v systemd-analyze >/dev/null || { echo "systemd-analyze is not installed"; exit 77; }
	mkdir units && cp "$EX"/systemd/etl-webhook.* units/ &&
	systemd-analyze verify --man=no units/etl-webhook.socket units/etl-webhook.service >log 2>&1;
	expect_no_grep "etl-webhook\.(service|socket):[0-9]+:" log
'

# The service's pipeline, run by hand with its paths moved here: a signed
# order is answered 202 only once it is in the database.
test_expect_success 'the systemd service'"'"'s pipeline answers 202 once the order is committed' '
	mkdir run lib && printf "webhook secret" >secret && orders_table shop.db &&
	PORT=$(free_port) &&
	script=$(sed -n "s/^ExecStart=\/bin\/bash -o pipefail -c '"'"'\(.*\)'"'"'$/\1/p" "$EX/systemd/etl-webhook.service") &&
	test -n "$script" &&
	script=$(printf "%s" "$script" | sed -e "s|/run/etl-webhook|$T/run|g" -e "s|/etc/etl/github.secret|$T/secret|" \
		-e "s|/usr/local/lib/etl/order.so|$X/order.so|" -e "s|/var/lib/etl|$T/lib|" -e "s|:8080/|127.0.0.1:$PORT/|") &&
	{ DATABASE_URL=sqlite:$T/shop.db bash -o pipefail -c "$script" 2>err & } &&
	pipeline=$! && wait_port "$PORT" &&
	body=$(head -n 1 "$EX/order.input.ndjson") &&
	sig=sha256=$(printf "%s" "$body" | openssl dgst -sha256 -hmac "webhook secret" | sed "s/^.* //") &&
	expect_eq 202 "$(curl -s -o /dev/null -w "%{http_code}" -H "X-Hub-Signature-256: $sig" \
		-H "Content-Type: application/json" --data-binary "$body" "http://127.0.0.1:$PORT/orders")" &&
	expect_eq 1 "$(sqlite3 shop.db "SELECT count(*) FROM orders WHERE order_id = 1")" "rows when the 202 came" &&
	pkill -TERM -P $pipeline -f "^etl-extract-http " && wait $pipeline
'
