#!/bin/sh
# receive.sh SCHEME [ADDRESS]:PORT DATABASE_URL - one sender's webhooks,
# verified, into the table "webhooks" (schema.sql), each delivery once.
#
# The secret, as the sender's settings show it, is in
# $WEBHOOK_SECRETS/SCHEME.secret (default /etc/etl/webhooks), one a line
# while it is rotated.  Each request becomes its envelope (path, headers,
# body, time) with the sender's delivery id in "delivery", a unique
# column: a retried delivery is dropped by --ignore-duplicates.
#
#   receive.sh github :8080 postgres:///hooks
#   TWILIO_PUBLIC_URL=https://hooks.example.com/sms receive.sh twilio :8081 sqlite:///var/lib/hooks.db
set -eu
[ $# -eq 3 ] || { echo "usage: receive.sh SCHEME [ADDRESS]:PORT DATABASE_URL" >&2; exit 64; }
scheme=$1 listen=$2 url=$3
dir=${WEBHOOK_SECRETS:-/etc/etl/webhooks}
set -- --verify "$scheme" --secret-file "$dir/$scheme.secret" --envelope \
	--delivery-id-field delivery
case $scheme in
twilio) set -- "$@" --public-url "${TWILIO_PUBLIC_URL:?the URL configured at Twilio}" ;;
meta) set -- "$@" --verify-token-file "$dir/meta.verify-token" ;;
esac
etl-extract-http "$@" "$listen" |
	etl-load-sql --ignore-duplicates --ignore-unknown -T 1s -t webhooks "$url"
