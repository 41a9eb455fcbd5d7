# bash completion for the etl programs: etl-batch, etl-map, etl-load-sql, etl-extract-sql,
# etl-extract-http, etl-load-http, etl-extract-nats, etl-load-nats.  Installed once
# per program name; every option of every program is listed here
# (tests/t/80-docs.sh checks this against --help).

_etl_common="--help --version --quiet --verbose --stats"
_etl_input="--max-line --reject --max-rejects --progress --stop-timeout
	--format --delimiter --columns --replace-header --null"

# The options of PROGRAM, long and short.
_etl_options() {
	case $1 in
	etl-batch)
		echo "-n --count -b --bytes -t --time --by --unbatch --validate --to $_etl_input" ;;
	etl-map)
		echo "-j --jobs $_etl_input" ;;
	etl-extract-http)
		echo "--envelope --token-file --hmac-secret-file --hmac-header
			--verify --secret-file --signature-prefix --signature-encoding
			--signature-digest --max-age --public-url --verify-token-file
			--delivery-id-field
			--tls-cert --tls-key --max-body --max-connections --idle-timeout
			--queue-timeout --max-headers --threads --ack-fifo --ack-timeout
			--max-per-client --header-timeout --body-timeout --metrics-listen
			--tls-priority --user --no-seccomp
			--reply-fifo --reply-timeout --reply-field --reply-type --raw-body
			--max-backlog --stop-timeout" ;;
	etl-extract-nats)
		echo "--queue --stream --durable -e --exit-at-end --ack-fifo --ack-wait
			--ack-timeout --max-in-flight --batch --envelope --creds --token-file
			--retry-for --user --no-seccomp --reject --max-rejects" ;;
	etl-load-nats)
		echo "--stream --msg-id --create --retention --replicas --duplicate-window
			--window --ack-timeout --creds --token-file --retry-for --user --no-seccomp
			$_etl_input" ;;
	etl-load-sql)
		echo "-t --table -n --rows -T --max-delay --upsert --ignore-duplicates
			--create --add-columns --ignore-unknown --init --sql --retry-for --job
			$_etl_input" ;;
	etl-extract-sql)
		echo "-t --table --cursor --checkpoint --from --resume --job --lookback
			--retry-for --progress --user --no-seccomp" ;;
	etl-load-http)
		echo "-c --concurrency -H --header --ndjson --token-file --hmac-secret-file
			--hmac-header --sign --secret-file --signature-prefix --signature-encoding
			--signature-digest --cacert --capath --cert --key --timeout --retry-for
			--user --no-seccomp $_etl_input" ;;
	esac
	echo "-h -V -q -v $_etl_common"
}

# Options whose argument is a file name, and what such files end in.
_etl_file_argument() {
	case $1 in
	--reject) echo "*" ;;
	--init) echo "*.sql" ;;
	--token-file|--hmac-secret-file|--secret-file|--verify-token-file|--ack-fifo|--capath|--creds|--reply-fifo) echo "*" ;;
	--tls-cert|--tls-key|--cacert|--cert|--key) echo "*.@(pem|crt|key)" ;;
	*) return 1 ;;
	esac
}

# Options whose argument is something else (a number, a name): no completion.
_etl_value_argument() {
	case $1 in
	-n|--count|-b|--bytes|-t|--time|--by|--max-line|--max-rejects) return 0 ;;
	-j|--jobs|--table|--rows|-T|--max-delay|--upsert|--retry-for|--job) return 0 ;;
	--cursor|--checkpoint|--from|--resume|--lookback) return 0 ;;
	--hmac-header|--max-body|--max-connections|--idle-timeout) return 0 ;;
	--verify|--sign|--signature-prefix|--signature-encoding|--signature-digest) return 0 ;;
	--max-age|--public-url|--delivery-id-field) return 0 ;;
	--queue-timeout|--max-headers|--threads|--ack-timeout|--stop-timeout) return 0 ;;
	--max-per-client|--header-timeout|--body-timeout|--metrics-listen) return 0 ;;
	--max-backlog) return 0 ;;
	-c|--concurrency|-H|--header|--timeout) return 0 ;;
	--tls-priority) return 0 ;;
	--delimiter|--columns|--replace-header|--null) return 0 ;;
	--reply-timeout|--reply-field|--reply-type) return 0 ;;
	--queue|--stream|--durable|--ack-wait|--max-in-flight|--batch|--msg-id) return 0 ;;
	--retention|--replicas|--duplicate-window|--window) return 0 ;;
	*) return 1 ;;
	esac
}

_etl_files() {  # GLOB: matching files and all directories
	local IFS=$'\n' extglob
	extglob=$(shopt -p extglob)
	shopt -s extglob
	if [ "$1" = "*" ]; then
		COMPREPLY+=($(compgen -f -- "$cur"))
	else
		COMPREPLY+=($(compgen -f -X "!$1" -- "$cur") $(compgen -d -- "$cur"))
	fi
	eval "$extglob"
}

_etl() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local prog=${COMP_WORDS[0]##*/} glob
	COMPREPLY=()
	if glob=$(_etl_file_argument "$prev"); then
		_etl_files "$glob"
		return
	fi
	_etl_value_argument "$prev" && return
	if [ "$prev" = --format ]; then
		COMPREPLY=($(compgen -W "csv tsv ndjson" -- "$cur"))
		return
	fi
	if [ "$prev" = --to ]; then
		COMPREPLY=($(compgen -W "ndjson csv" -- "$cur"))
		return
	fi
	if [ "$prev" = --user ]; then
		COMPREPLY=($(compgen -u -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_etl_options "$prog")" -- "$cur"))
		return
	fi
	case $prog in
	etl-batch|etl-load-sql|etl-load-http)
		_etl_files "*.@(ndjson|jsonl|json|csv|tsv|gz)" ;;
	etl-map)
		# the transform first, then its own arguments
		local i
		for ((i = 1; i < COMP_CWORD; i++)); do
			[[ ${COMP_WORDS[i]} == *.so ]] && return
		done
		_etl_files "*.so" ;;
	esac
}

complete -F _etl etl-batch etl-map etl-load-sql etl-extract-sql etl-extract-http etl-load-http etl-extract-nats etl-load-nats
