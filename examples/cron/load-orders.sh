#!/bin/bash
# load-orders.sh - the nightly orders load, for cron.
#
#   15 2 * * *  etl  DATABASE_URL=postgresql://etl@db/shop /usr/local/share/etl/load-orders.sh /srv/export/orders.ndjson.gz
#
# pipefail makes the job fail when any stage fails, and cron mails what the
# failing stage printed: one line naming the program, the place and why.
# --upsert makes a re-run after a failure safe: rows already loaded are
# updated, not doubled.
set -eu
set -o pipefail
input=${1:?usage: load-orders.sh EXPORT.ndjson[.gz]}
transform=${ETL_TRANSFORM:-/usr/local/lib/etl/order.so}
rejects=${ETL_REJECTS:-/var/lib/etl/orders.rejects.ndjson}

etl-map "$transform" --reject "$rejects" <"$input" |
	etl-load-sql --upsert order_id -t orders "${DATABASE_URL:?set DATABASE_URL}"
