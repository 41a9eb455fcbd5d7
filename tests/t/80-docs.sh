#!/usr/bin/env bash
# Documentation that matches the programs: every option in each program's
# --help appears in its man page and in the bash and zsh completions, and
# the reverse; man pages are clean under mandoc -Tlint; the completions
# work in bash and load in zsh.
. "$(dirname "$0")/../lib.sh"
programs=$(cd "$ETL_BIN" && ls etl-* 2>/dev/null)

# Long options of a program's --help, one per line, sorted.
help_options() {
	"$ETL_BIN/$1" --help | grep -oE '^ +(-[A-Za-z0-9], )?--[a-z0-9-]+' |
		grep -oE -- '--[a-z0-9-]+' | sort -u
}

# Long options a man page lists in its option list (.It Fl \-name).
man_options() {
	grep -E '^\.It Fl' "$ETL_TOP/man/$1.1" | grep -oE 'Fl \\-[a-z0-9-]+' |
		sed 's/^Fl \\-/--/' | sort -u
}

bash_options() {
	bash -c '. "$1/completion/etl.bash"; _etl_options "$2"' _ "$ETL_TOP" "$1" |
		tr -s " \t" "\n\n" | grep -E "^--" | sort -u
}

# The zsh file: the options in the program's case branch, plus the shared
# arrays it uses.
zsh_options() {
	local f=$ETL_TOP/completion/_etl branch
	branch=$(awk -v p="$1)" '$1 == p {on=1; next} on && /^\t;;/ {exit} on' "$f")
	{
		printf '%s\n' "$branch"
		awk '/^common=\(/{on=1} on{print} on && /^\)/{exit}' "$f"
		case $branch in *'$input'*) awk '/^input=\(/{on=1} on{print} on && /^\)/{exit}' "$f" ;; esac
	} | grep -oE -- '--[a-z0-9-]+' | sort -u
}

same_sets() {  # WHAT PROGRAM LIST_A LIST_B
	[ "$3" = "$4" ] && return 0
	echo "$2: --help and $1 differ (< only in --help, > only in $1):"
	diff <(printf '%s\n' "$3") <(printf '%s\n' "$4") | grep -E '^[<>]'
	return 1
}

for p in $programs; do
	test_expect_success "$p: man page exists and is clean under mandoc -Tlint" '
		test -f "$ETL_TOP/man/$p.1" || { echo "no man/$p.1"; exit 1; }
		mandoc -Tlint -Wwarning "$ETL_TOP/man/$p.1" >lint 2>&1
		expect_lines 0 lint
	'
	test_expect_success "$p: --help options match the man page" '
		same_sets "man/$p.1" "$p" "$(help_options $p)" "$(man_options $p)"
	'
	test_expect_success "$p: --help options match the bash completion" '
		same_sets "completion/etl.bash" "$p" "$(help_options $p)" "$(bash_options $p)"
	'
	test_expect_success "$p: --help options match the zsh completion" '
		same_sets "completion/_etl" "$p" "$(help_options $p)" "$(zsh_options $p)"
	'
done

test_expect_success 'etl(7) and etl-transform(3) are clean under mandoc -Tlint' '
	for m in "$ETL_TOP"/man/*.7 "$ETL_TOP"/man/*.3; do
		[ -f "$m" ] || continue
		mandoc -Tlint -Wwarning "$m" || exit 1
	done
'

# Run the bash completion for the words given; print COMPREPLY sorted.
complete_bash() {
	bash -c '. "$1/completion/etl.bash"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _etl
		printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$ETL_TOP" "$@"
}

test_expect_success 'bash completes option prefixes' '
	expect_eq "--unbatch" "$(complete_bash etl-batch --unb)" &&
	expect_eq "$(printf -- "--max-line\n--max-rejects")" "$(complete_bash etl-batch --max-)"
'

test_expect_success 'bash completes NDJSON inputs, and any file after --reject' '
	mkdir sub && : >a.ndjson && : >b.txt && : >c.json.gz &&
	expect_eq "$(printf "a.ndjson\nc.json.gz\nsub")" "$(complete_bash etl-batch "")" &&
	expect_eq "$(printf "a.ndjson\nb.txt\nc.json.gz\nsub")" "$(complete_bash etl-batch --reject "")" &&
	expect_eq "" "$(complete_bash etl-batch -n "")"
'

test_expect_success 'the zsh completion loads under zsh -f with compinit' '
	zsh -f -c "fpath=($ETL_TOP/completion \$fpath); autoload -Uz compinit;
		compinit -u -d $T/zcompdump;
		for p in $(echo $programs); do
			[[ \${_comps[\$p]} == _etl ]] || { print -u2 \"no completion for \$p\"; exit 1; }
		done"
'

test_expect_success 'bash completes .so files for etl-map and .sql after --init' '
	: >a.so && : >b.ndjson && : >c.sql &&
	expect_eq "a.so" "$(complete_bash etl-map "")" &&
	expect_eq "c.sql" "$(complete_bash etl-load-sql --init "")" &&
	expect_eq "--jobs" "$(complete_bash etl-map --jo)"
'
