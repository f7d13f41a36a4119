#!/usr/bin/env bash
# The shell scripts are indented with tabs, like the C code: a line may not
# start with a space.  Spaces after the tabs (aligning a continuation line)
# are fine, and here-document bodies are data, left as they are.  A
# string that spans lines is not told from code: its lines count too
# (build such a string with $'...\n...' or printf instead).
# With --fix, a line's leading spaces become one tab per four (the old
# indent unit of the space-indented scripts) and the rest stay as
# alignment; nothing but leading white space outside here-documents
# changes.
# Usage: scripts/check-shell-indent.sh [--fix] [FILE...]
#   FILE...  default: every shell file under tests/ scripts/ bench/
#            contrib/ .ci/ (*.sh, a #! line naming sh or bash, bash
#            completions)
# Prints FILE:LINE: for each space-indented line; exit 1 if there is one
# (without --fix), 2 on a usage error.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
fix=0
if [[ ${1:-} == --fix ]]; then
	fix=1
	shift
fi
for f in "$@"; do
	[[ $f == -* ]] && { echo "check-shell-indent: unknown option '$f'" >&2; exit 2; }
	[[ -f $f ]] || { echo "check-shell-indent: $f: no such file" >&2; exit 2; }
done

# shell_files: the default list, one a line, relative to $top
shell_files() {
	local f
	(cd "$top" && find tests scripts bench contrib .ci -type f \
		-not -path '*/__pycache__/*' 2>/dev/null | sort) |
		while read -r f; do
			case $f in
			*.sh | contrib/bash-completion/*) echo "$f" ;;
			*.*) ;;
			*) head -n 1 "$top/$f" | grep -qE '^#!.*[/ ](ba)?sh( |$)' &&
				echo "$f" ;;
			esac
		done
}

# The awk program prints the file with its indent fixed (fix=1) or the
# offending lines (fix=0).  A here-document starts at << (not <<<) with a
# word, and ends at the line that is that word (after tabs for <<-).
indent_awk='
function heredoc_start(line,    w) {
	gsub(/<<</, "", line)
	gsub(/["\\]/, "", line)
	gsub(sq, "", line)
	if (!match(line, /<<-?[ \t]*[A-Za-z_][A-Za-z0-9_]*/))
		return ""
	w = substr(line, RSTART, RLENGTH)
	dash = (w ~ /^<<-/)
	sub(/^<<-?[ \t]*/, "", w)
	return w
}
{
	line = $0
	if (delim != "") {
		t = line
		if (dash)
			sub(/^\t+/, "", t)
		if (t == delim)
			delim = ""
		if (fix)
			print line
		next
	}
	if (line ~ /^ /) {
		if (fix) {
			match(line, /^ +/)
			n = RLENGTH
			lead = ""
			for (i = 0; i < int(n / 4); i++)
				lead = lead "\t"
			for (i = 0; i < n % 4; i++)
				lead = lead " "
			line = lead substr(line, n + 1)
		} else {
			printf "%s:%d: indented with spaces\n", FILENAME, FNR
			bad = 1
		}
	}
	if (fix)
		print line
	delim = heredoc_start(line)
}
END { exit bad }
'

rc=0
if (($#)); then
	files=("$@")
else
	mapfile -t files < <(shell_files)
	files=("${files[@]/#/$top/}")
fi
for f in "${files[@]}"; do
	if ((fix)); then
		awk -v fix=1 -v sq="'" "$indent_awk" "$f" >"$f.indent" &&
			{ cmp -s "$f" "$f.indent" || cat "$f.indent" >"$f"; }
		rm -f "$f.indent"
	else
		awk -v fix=0 -v sq="'" "$indent_awk" "$f" || rc=1
	fi
done
exit "$rc"
