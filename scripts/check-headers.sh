#!/usr/bin/env bash
# Check that the private headers agree with their files: every function a
# header declares under a section is defined in the file that section names.
#
# Usage: scripts/check-headers.sh [HEADER...]   (paths relative to the top,
# or absolute; default: the headers listed in DEFAULT_HEADERS below)
#
# The convention: a section starts with a comment line of its own
#	/* ---- chan.c ---- */
#	/* ---- ext2_inode.c: the node cache and inode fields ---- */
#	/* ---- ops in ext2_inode.c / ext2_dir.c ---- */
# naming the file (or files: then any of them) before an optional ':'.
# The file is looked for in the header's directory.  A section whose title
# names no .c file (types, compat helpers) may hold no prototypes.  Static
# inline functions of the header are defined there, wherever they stand.
# A definition: the name at the start of a line or after its return type,
# then '(', and the declarator ending in '{' or in ')' with '{' on the next
# line.  Prints one line per mismatch and exits 1 if there was any.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)

DEFAULT_HEADERS=(kmod/uvfs_i.h lib/uvfs_i.h lib/fuse_i.h fs/ext2/ext2_i.h)

# Print "FILES<TAB>FUNC" for every prototype of header $1 outside static
# inline definitions; FILES is a space-separated list, "-" for none.
prototypes() {
	awk '
	function flush(stmt,   name, s) {
		s = stmt
		gsub(/__attribute__ *\(\([^()]*(\([^()]*\))*[^()]*\)\)/, "", s)
		gsub(/[ \t]+/, " ", s)
		sub(/^ /, "", s)
		if (s !~ /\(/ || s ~ /^typedef / || s ~ /^[^(]*\( *\*/)
			return
		# the declarator name: the identifier before the first "("
		name = s
		sub(/ *\(.*/, "", name)
		if (name ~ /[^A-Za-z0-9_* ]/)
			return
		sub(/.*[ *]/, "", name)
		if (name == "")
			return
		print section "\t" name
	}
	BEGIN { section = "-"; depth = 0; incomment = 0; stmt = "" }
	{
		line = $0
		if (incomment) {
			if (line !~ /\*\//)
				next
			sub(/.*\*\//, "", line)
			incomment = 0
		}
		if (depth == 0 && line ~ /^\/\* ---- .* ---- \*\/$/) {
			t = line
			sub(/^\/\* ---- /, "", t)
			sub(/ ---- \*\/$/, "", t)
			sub(/:.*/, "", t)
			section = ""
			n = split(t, w, /[ \/,]+/)
			for (i = 1; i <= n; i++)
				if (w[i] ~ /^[A-Za-z0-9_.-]+\.c$/)
					section = section \
					    (section == "" ? "" : " ") w[i]
			if (section == "")
				section = "-"
			next
		}
		if (cont) {
			cont = (line ~ /\\$/)
			next
		}
		if (line ~ /^[ \t]*#/) {
			cont = (line ~ /\\$/)
			next
		}
		# comments: drop one-line ones, enter multi-line ones
		gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "", line)
		gsub(/\/\/.*/, "", line)
		if (line ~ /\/\*/) {
			sub(/\/\*.*/, "", line)
			incomment = 1
		}
		for (i = 1; i <= length(line); i++) {
			c = substr(line, i, 1)
			if (c == "{") {
				# a body: an inline function (defined
				# here) or a struct, not a prototype
				if (depth == 0)
					stmt = ""
				depth++
			} else if (c == "}") {
				depth--
			} else if (depth == 0) {
				if (c == ";") {
					flush(stmt)
					stmt = ""
				} else {
					stmt = stmt c
				}
			}
		}
		if (depth == 0)
			stmt = stmt " "
	}' "$1"
}

# Print "FILE FUNC" for every function defined in the *.c files of dir $1.
definitions() {
	local files=("$1"/*.c)

	[[ -e ${files[0]} ]] || return 0
	awk '
	FNR == 1 {
		decl = 0
		looking = 0
		base = FILENAME
		sub(/.*\//, "", base)
	}
	looking {
		looking = 0
		if ($0 ~ /^\{/) {
			print base, name
			next
		}
	}
	!decl && /^[A-Za-z_][A-Za-z0-9_ \t*]*\(/ {
		name = substr($0, 1, index($0, "(") - 1)
		sub(/[ \t]+$/, "", name)
		sub(/.*[ \t*]/, "", name)
		decl = 1
	}
	decl {
		if ($0 ~ /\{[ \t]*$/) {
			print base, name
			decl = 0
		} else if ($0 ~ /;[ \t]*$/) {
			decl = 0
		} else if ($0 ~ /\)[ \t]*$/) {
			decl = 0
			looking = 1
		}
	}' "${files[@]}"
}

check_header() {
	local hdr=$1 path=$1 dir defs files func where bad=0 f ok

	[[ $path == /* ]] || path=$top/$path

	if [[ ! -r $path ]]; then
		echo "check-headers: $hdr: cannot read it" >&2
		return 1
	fi
	dir=$(dirname "$path")
	defs=$(definitions "$dir")
	while IFS=$'\t' read -r files func; do
		where=$(awk -v fn="$func" '$2 == fn { printf "%s%s", sep, $1
						       sep = " " }' <<<"$defs")
		ok=0
		for f in $where; do
			[[ " $files " == *" $f "* ]] && ok=1
		done
		((ok)) && continue
		[[ -n $where ]] && where="in $where"
		echo "$hdr: $func: declared under ${files/#-/no file}," \
			"defined ${where:-nowhere}"
		bad=1
	done < <(prototypes "$path")
	return $bad
}

if (($# == 0)); then
	set -- "${DEFAULT_HEADERS[@]}"
fi
rc=0
for h in "$@"; do
	check_header "$h" || rc=1
done
exit $rc
