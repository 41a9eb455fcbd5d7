#!/usr/bin/env bash
# etl-map: every path of the transform ABI, the examples' expected outputs,
# -j N keeping input order, control lines and batches, crash reports.
. "$(dirname "$0")/../lib.sh"
X=${ETL_TRANSFORMS:-$ETL_TOP/build/obj}/examples
EX=$ETL_TOP/examples
JCFLAGS=$(pkg-config --cflags jansson)

# Build a transform from C source on stdin into NAME.so in the test folder.
transform() {
	cc -shared -fPIC -I"$ETL_TOP/lib" $JCFLAGS -x c - -o "$1.so" "${@:2}"
}

test_expect_success 'the example transforms give their expected outputs' '
	etl-map "$X/order.so" --reject rej <"$EX/order.input.ndjson" >out &&
	expect_file_eq "$EX/order.expected.ndjson" out &&
	expect_file_eq "$EX/order.rejects.ndjson" rej &&
	etl-map "$X/redact.so" password,token user.ssn <"$EX/redact.input.ndjson" >out &&
	expect_file_eq "$EX/redact.expected.ndjson" out &&
	etl-map "$X/md5.so" email <"$EX/md5.input.ndjson" >out &&
	expect_file_eq "$EX/md5.expected.ndjson" out &&
	etl-map "$X/items.so" <"$EX/items.input.ndjson" >out &&
	expect_file_eq "$EX/items.expected.ndjson" out &&
	etl-map "$X/totals.so" <"$EX/totals.input.ndjson" >out &&
	expect_file_eq "$EX/totals.expected.ndjson" out
'

test_expect_success 'a rejected record without --reject stops with exit 65 after what came before' '
	expect_status 65 etl-map "$X/order.so" <"$EX/order.input.ndjson" >out 2>err &&
	expect_output err "etl-map: stdin:3: product_id: not an integer" &&
	expect_lines 2 out
'

test_expect_success 'a missing transform file is exit 66' '
	expect_status 66 etl-map nothere.so </dev/null 2>err &&
	expect_output err "etl-map: nothere.so: No such file or directory"
'

test_expect_success 'a .so without a descriptor is exit 78 naming the cause' '
	echo "int unrelated(void) { return 1; }" | transform nodesc &&
	expect_status 78 etl-map nodesc.so </dev/null 2>err &&
	expect_output err "etl-map: nodesc.so: no etl_transform descriptor: declare one with ETL_TRANSFORM(...) from etl.h"
'

test_expect_success 'a descriptor for another ABI version is exit 78 naming both versions' '
	printf "%s\n" "#include <etl.h>" "static int m(struct etl_context *c, json_t *r) { (void)r; return etl_emit(c, json_object()); }" \
		"const struct etl_transform etl_transform = { sizeof(struct etl_transform), 99, \"old\", 0, 0, m, 0, 0 };" | transform oldabi &&
	expect_status 78 etl-map oldabi.so </dev/null 2>err &&
	expect_output err "etl-map: oldabi.so: built for transform ABI version 99; this etl-map speaks version 1: rebuild it against this etl.h"
'

test_expect_success 'an undefined symbol inside the .so is exit 78 with dlerror'"'"'s text' '
	printf "%s\n" "#include <etl.h>" "int nowhere_to_be_found(void);" \
		"static int m(struct etl_context *c, json_t *r) { (void)r; nowhere_to_be_found(); return etl_emit(c, json_object()); }" \
		"ETL_TRANSFORM(.map = m);" | transform undef &&
	expect_status 78 etl-map ./undef.so </dev/null 2>err &&
	expect_grep "^etl-map: ./undef.so: cannot load: .*undefined symbol: nowhere_to_be_found" err
'

test_expect_success 'init gets the arguments; an init failure is exit 78 with its message' '
	printf "%s\n" "#include <etl.h>" "#include <string.h>" \
		"static int i(struct etl_context *c, int argc, char **argv) { if (argc != 2 || strcmp(argv[1], \"b\")) return etl_fail(c, \"want 2 args, got %d\", argc); return ETL_OK; }" \
		"static int m(struct etl_context *c, json_t *r) { return etl_emit(c, json_incref(r)); }" \
		"ETL_TRANSFORM(.init = i, .map = m);" | transform args &&
	echo "{\"a\":1}" | etl-map args.so a b >out &&
	expect_output out "{\"a\":1}" &&
	expect_status 78 etl-map args.so a </dev/null 2>err &&
	expect_output err "etl-map: args.so: init failed: want 2 args, got 1"
'

test_expect_success 'a fatal error stops the run with exit 70 and its message' '
	printf "%s\n" "#include <etl.h>" \
		"static int m(struct etl_context *c, json_t *r) { if (json_object_get(r, \"boom\")) return etl_fail(c, \"database of prices is gone\"); return etl_emit(c, json_incref(r)); }" \
		"ETL_TRANSFORM(.map = m);" | transform fatal &&
	printf "{\"a\":1}\n{\"boom\":1}\n{\"a\":2}\n" | expect_status 70 etl-map fatal.so >out 2>err &&
	expect_output err "etl-map: fatal.so: stdin:2: database of prices is gone" &&
	expect_output out "{\"a\":1}"
'

test_expect_success 'a crash in the transform is reported with its record, exit 70' '
	printf "%s\n" "#include <etl.h>" "#include <stdlib.h>" \
		"static int m(struct etl_context *c, json_t *r) { if (json_object_get(r, \"segv\")) { volatile int *p = 0; *p = 1; } if (json_object_get(r, \"abort\")) abort(); return etl_emit(c, json_incref(r)); }" \
		"ETL_TRANSFORM(.map = m);" | transform crash &&
	export ASAN_OPTIONS=handle_segv=0:handle_abort=0:handle_sigbus=0:handle_sigfpe=0 &&
	printf "{\"a\":1}\n{\"a\":2}\n{\"segv\":1}\n" | expect_status 70 etl-map crash.so >out 2>err &&
	expect_output err "etl-map: crash.so: crashed (SIGSEGV) on stdin:3" &&
	printf "{\"abort\":1}\n" | expect_status 70 etl-map -j 2 crash.so 2>err &&
	expect_output err "etl-map: crash.so: crashed (SIGABRT) on stdin:1"
'

test_expect_success 'fan-out and finish() emitting work through batches and -j' '
	printf "[%s,%s]\n" "{\"order_id\":1,\"items\":[{\"q\":1},{\"q\":2}]}" "{\"order_id\":2,\"items\":[{\"q\":3}]}" |
		etl-map -j 2 "$X/items.so" >out &&
	expect_output out "[{\"order_id\":1,\"line\":1,\"q\":1},{\"order_id\":1,\"line\":2,\"q\":2},{\"order_id\":2,\"line\":1,\"q\":3}]"
'

test_expect_success 'control lines bypass the transform and keep their place, with -j too' '
	{ for i in $(seq 1 3000); do echo "{\"order_id\":$i,\"product_id\":1,\"quantity\":1,\"amount\":1,\"shipping\":0,\"tax\":0,\"shipping_address\":\"a\"}"; [ $((i % 1000)) -eq 0 ] && echo "{\"\$etl\":{\"checkpoint\":$i}}"; done; } >in &&
	for j in 1 3; do
		etl-map -j $j "$X/order.so" <in >out &&
		expect_eq "1001 2002 3003" "$(grep -n "\$etl" out | cut -d: -f1 | tr "\n" " " | sed "s/ $//")" "control line positions with -j $j" || exit 1
	done
'

test_expect_success '-j 1, 2 and 8 give byte-identical output on 200k records' '
	"$ETL_TOP/build/gen-orders" 200000 >in &&
	etl-map -j 1 "$X/order.so" <in >out1 &&
	etl-map -j 2 "$X/order.so" <in >out2 &&
	etl-map -j 8 "$X/order.so" <in >out8 &&
	expect_lines 200000 out1 && cmp out1 out2 && cmp out1 out8
'

test_expect_success 'rejects come out in input order with -j' '
	for i in $(seq 1 2000); do if [ $((i % 7)) -eq 0 ]; then echo "{\"order_id\":$i}"; else echo "{\"order_id\":$i,\"product_id\":1,\"quantity\":1,\"amount\":1,\"shipping\":0,\"tax\":0,\"shipping_address\":\"a\"}"; fi; done >in &&
	etl-map -j 1 "$X/order.so" --reject rej1 <in >out1 &&
	etl-map -j 4 "$X/order.so" --reject rej4 <in >out4 &&
	cmp out1 out4 && cmp rej1 rej4 && expect_lines 285 rej1
'

test_expect_success 'a record arriving alone comes out at once with -j 2' '
	mkfifo in || exit 1
	{ echo "{\"order_id\":1,\"product_id\":1,\"quantity\":1,\"amount\":1,\"shipping\":0,\"tax\":0,\"shipping_address\":\"a\"}"; sleep 2; } >in &
	etl-map -j 2 "$X/order.so" <in >out &
	mapper=$!
	sleep 0.7
	expect_lines 1 out; status=$?
	wait $mapper
	[ $status -eq 0 ]
'

test_expect_success '-j 3: records arriving alone are mapped by the reader, bursts by the workers, all in input order' '
	# where.so tells which thread mapped a record ("main": the reader)
	# and rejects every record with "bad".
	printf "%s\n" "#define _GNU_SOURCE" "#include <etl.h>" "#include <unistd.h>" \
		"static int m(struct etl_context *c, json_t *r) { if (json_object_get(r, \"bad\")) return etl_reject(c, \"bad\"); json_object_set_new(r, \"main\", json_boolean(gettid() == getpid())); return etl_emit(c, json_incref(r)); }" \
		"ETL_TRANSFORM(.map = m);" | transform where &&
	for i in $(seq 1 120000); do
		if [ $((i % 97)) -eq 0 ]; then echo "{\"i\":$i,\"bad\":1}"; else echo "{\"i\":$i}"; fi
		[ $((i % 20000)) -eq 0 ] && echo "{\"\$etl\":{\"checkpoint\":$i}}"
	done >in &&
	etl-map -j 1 where.so --reject rej1 <in >out1 &&
	python3 "$ETL_TOP/tests/input-gen.py" bursts --lone 12 --burst 30000 --pause-ms 40 <in |
		etl-map -j 3 where.so --reject rej3 >out3 &&
	cmp rej1 rej3 && expect_lines 1237 rej1 &&
	expect_eq "$(sed "s/,\"main\":[a-z]*//" out1)" "$(sed "s/,\"main\":[a-z]*//" out3)" "records and checkpoints in input order" &&
	lone=$(grep -c "\"main\":true" out3) && burst=$(grep -c "\"main\":false" out3) &&
	{ [ "$lone" -ge 24 ] && [ "$burst" -ge 30000 ]; } ||
		{ echo "mapped by the reader: $lone, by the workers: $burst"; exit 1; }
'

test_expect_success 'memory stays flat with -j 4 on a long stream' '
	# Under AddressSanitizer RSS is its shadow memory and quarantine; the
	# bound is checked by the plain build.
	[ -z "${ETL_SANITIZE:-}" ] || { echo "RSS is not meaningful under sanitizers"; exit 77; }
	"$ETL_TOP/build/gen-orders" 300000 >in &&
	/usr/bin/time -f %M -o rss etl-map -j 4 "$X/order.so" <in >/dev/null &&
	test "$(cat rss)" -lt 64000 || { echo "peak RSS $(cat rss) KB"; exit 1; }
'

test_expect_success 'a transform built from the installed header with pkg-config' '
	make -s -C "$ETL_TOP" install PREFIX=/usr DESTDIR="$T/root" >/dev/null &&
	test -f "$T/root/usr/include/etl.h" &&
	PKG_CONFIG_PATH=$T/root/usr/share/pkgconfig PKG_CONFIG_SYSROOT_DIR=$T/root \
		cc -shared -fPIC $(PKG_CONFIG_PATH=$T/root/usr/share/pkgconfig PKG_CONFIG_SYSROOT_DIR=$T/root pkg-config --cflags etl) \
		"$EX/order.c" -o order.so -lm &&
	etl-map ./order.so <"$EX/order.input.ndjson" --reject rej >out &&
	expect_file_eq "$EX/order.expected.ndjson" out
'
