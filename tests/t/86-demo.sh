#!/usr/bin/env bash
# The README's first command runs examples/demo.sh: webhook server, curl
# posts, order.so, SQLite, the rows printed, and nothing left running.
. "$(dirname "$0")/../lib.sh"

test_expect_success 'the demo loads the sample orders into SQLite and stops what it started' '
	[ -z "${ETL_SANITIZE:-}" ] || { echo "the demo runs the plain build"; exit 77; }
	"$ETL_TOP/examples/demo.sh" >out 2>err &&
	expect_grep "^1 +83 +3 +3795.4 +20 Damrak" out &&
	expect_grep "^5 +1 +2 +11.3 +Via Roma 1" out &&
	expect_grep "\"where\":\"stdin:3\",\"error\":\"product_id: not an integer\"" out &&
	expect_no_grep "^2[0-9]{3,} " out &&
	! pgrep -f "etl-extract-http 127.0.0.1:.*/orders" >/dev/null || { echo "a server is still running"; exit 1; }
'
