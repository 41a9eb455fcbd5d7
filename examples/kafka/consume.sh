#!/bin/bash
# consume.sh - a Kafka topic into the pipeline with kcat (Debian package
# kcat): each message is one JSON record.
#
#   KAFKA_BROKERS=broker:9092 DATABASE_URL=postgresql://etl@db/shop ./consume.sh orders
#
# -e stops at the end of the topic (for a batch job); drop it to follow the
# topic.  -u unbuffers kcat's output so records flow at once.
set -eu
set -o pipefail
topic=${1:?usage: consume.sh TOPIC}
KCAT=${KCAT:-kcat}

$KCAT -C -u -e -q -b "${KAFKA_BROKERS:?set KAFKA_BROKERS}" -t "$topic" -f '%s\n' |
	etl-map "${ETL_TRANSFORM:-order.so}" |
	etl-batch -n 1000 -t 500ms |
	etl-load-sql --upsert order_id -t orders "${DATABASE_URL:?set DATABASE_URL}"
