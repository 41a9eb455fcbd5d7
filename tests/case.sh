#!/usr/bin/env bash
# tests/case.sh FILE.case - run the end-to-end cases in one case file.
#
# A case file holds cases separated by a line "===".  Each case is:
#
#	# title of the case
#	cmd: etl-batch -n 2
#	status: 0                 (optional, default 0)
#	--- stdin                 (optional: lines fed to the command)
#	{"a":1}
#	--- stdout                (expected standard output, exactly; absent: empty)
#	[{"a":1}]
#	--- stderr                (expected standard error, exactly; absent: empty)
#
# The command runs under bash in the case file's folder, with the built
# programs first on PATH.  A failing case prints the command, what was
# expected and what came out.
set -u
file=$1
dir=$(cd "$(dirname "$file")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/etl-case.XXXXXX")
trap 'rm -rf "$work"' EXIT

run_case() {
	local title=$1 cmd=$2 want_status=$3 status ok=1
	[ -n "$cmd" ] || return 0
	(cd "$dir" && bash -c "$cmd") <"$work/stdin" >"$work/got-stdout" 2>"$work/got-stderr"
	status=$?
	[ "$status" -eq "$want_status" ] || ok=0
	cmp -s "$work/stdout" "$work/got-stdout" || ok=0
	cmp -s "$work/stderr" "$work/got-stderr" || ok=0
	if [ $ok -eq 1 ]; then
		echo "ok - $title"
		return
	fi
	echo "not ok - $title"
	echo "# command: $cmd"
	[ "$status" -eq "$want_status" ] || echo "# exit status: expected $want_status, got $status"
	if ! cmp -s "$work/stdout" "$work/got-stdout"; then
		echo "# stdout differs (- expected, + got):"
		diff -u "$work/stdout" "$work/got-stdout" | tail -n +3 | head -n 20 | sed 's/^/# /'
	fi
	if ! cmp -s "$work/stderr" "$work/got-stderr"; then
		echo "# stderr differs (- expected, + got):"
		diff -u "$work/stderr" "$work/got-stderr" | tail -n +3 | head -n 20 | sed 's/^/# /'
	fi
}

title="" cmd="" want=0 section=""
reset() {
	title="" cmd="" want=0 section=""
	: >"$work/stdin"; : >"$work/stdout"; : >"$work/stderr"
}
reset
while IFS= read -r line || [ -n "$line" ]; do
	if [ "$line" = "===" ]; then
		run_case "$title" "$cmd" "$want"
		reset
		continue
	fi
	case $section:$line in
	*:"--- stdin") section=stdin; continue ;;
	*:"--- stdout") section=stdout; continue ;;
	*:"--- stderr") section=stderr; continue ;;
	:"# "*) [ -z "$title" ] && title=${line#\# }; continue ;;
	:"cmd: "*) cmd=${line#cmd: }; continue ;;
	:"status: "*) want=${line#status: }; continue ;;
	:) continue ;;
	esac
	printf '%s\n' "$line" >>"$work/$section"
done <"$file"
run_case "$title" "$cmd" "$want"
