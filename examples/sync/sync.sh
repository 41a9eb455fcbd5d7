#!/bin/bash
# sync.sh - copy the new and changed rows of a table into another
# database, exactly once, for cron (see crontab):
#
#   sync.sh TABLE CURSOR KEY
#   SOURCE_URL=mariadb://etl@shop/shop TARGET_URL=postgresql://etl@dw/dw sync.sh orders updated_at,order_id order_id
#
# The cursor columns (say updated_at and the key) must be NOT NULL and
# unique together, and the application must set updated_at on every
# change.  etl-load-sql commits the bookmark of the rows it loads in the
# same transaction as the rows; --resume starts after it, so a run that
# crashed, was killed or lost its connection is simply run again.  The
# lookback re-reads rows committed late by long transactions; --upsert on
# the key makes reading a row again harmless (an updated row is read again
# anyway, under its new updated_at).
set -eu
set -o pipefail
table=${1:?usage: sync.sh TABLE CURSOR KEY}
cursor=${2:?usage: sync.sh TABLE CURSOR KEY}
key=${3:?usage: sync.sh TABLE CURSOR KEY}
job=${SYNC_JOB:-sync-$table}
lookback=${SYNC_LOOKBACK:-10m}

etl-extract-sql "${SOURCE_URL:?set SOURCE_URL}" -t "$table" --cursor "$cursor" \
	--lookback "$lookback" --resume "${TARGET_URL:?set TARGET_URL}" --job "$job" |
	etl-load-sql --job "$job" --upsert "$key" -t "$table" "$TARGET_URL"
