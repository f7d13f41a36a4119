#!/usr/bin/env bash
# Shell scripts share one indent style and one set of result helpers:
# scripts/check-shell-indent.sh finds no space-indented line in any shell
# file (first, on made-up files, that it finds one and passes here-document
# bodies), and tests/lib.sh's ok/bad/check/summary print and count the
# same under bash and under busybox sh (the VM guests' shell).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
indent=$top/scripts/check-shell-indent.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0

# a here-document body and a continuation aligned after a tab are fine
printf '%s\n' 'f() {' '	cat <<EOF' '    data' 'EOF' '	cat <<-X' \
	'    more' '	X' '	x=(a' '	   b)' '}' >"$tmp/good.sh"
# the same with one line indented by spaces after the here-document
cp "$tmp/good.sh" "$tmp/bad.sh"
printf '%s\n' 'g() {' '    echo space' '}' >>"$tmp/bad.sh"
if ! "$indent" "$tmp/good.sh"; then
	echo "FAIL: check-shell-indent.sh refuses a tab-indented file"
	rc=1
fi
got=$("$indent" "$tmp/bad.sh")
if [[ $? != 1 || $got != "$tmp/bad.sh:12: indented with spaces" ]]; then
	echo "FAIL: check-shell-indent.sh on a space-indented line: '$got'"
	rc=1
fi
cp "$tmp/bad.sh" "$tmp/fixed.sh"
"$indent" --fix "$tmp/fixed.sh"
if ! "$indent" "$tmp/fixed.sh" || [[ $(sed -n 3p "$tmp/fixed.sh") != "    data" ]] ||
	[[ $(sed -n 12p "$tmp/fixed.sh") != "	echo space" ]]; then
	echo "FAIL: check-shell-indent.sh --fix"
	rc=1
fi
((rc)) || echo "ok: check-shell-indent.sh finds space indents, skips here-documents"

if ! "$indent"; then
	echo "FAIL: shell files indented with spaces (above);" \
		"scripts/check-shell-indent.sh --fix FILE"
	rc=1
else
	echo "ok: every shell file is indented with tabs"
fi

# tests/lib.sh: two checks pass, one fails, the summary says so and fails
cat >"$tmp/use-lib.sh" <<'EOF'
. "$1"
CHECK_OUT=$2/check.out
ok one
check two true
check three sh -c 'echo why; exit 3'
summary demo
echo "status $?"
EOF
want=$'ok   one\nok   two\nFAIL three: exit 3: sh -c echo why; exit 3\n'
want+=$'     | why\ndemo: 2 passed, 1 failed\n  failed: three\nstatus 1'
shells=(bash)
[[ -x /bin/busybox ]] && shells+=("/bin/busybox sh")
for sh in "${shells[@]}"; do
	got=$($sh "$tmp/use-lib.sh" "$top/tests/lib.sh" "$tmp" 2>&1)
	if [[ $got != "$want" ]]; then
		echo "FAIL: tests/lib.sh under $sh printed:"
		echo "$got"
		rc=1
	else
		echo "ok: tests/lib.sh under $sh"
	fi
done

# scratch_mnt under set -e: the exit trap removes its directory, with
# nothing mounted, and keeps the exit status
got=$(bash -ec '. "$1"; scratch_mnt shlib-test; echo "$tmp"; [ -d "$mnt" ]' \
	_ "$top/tests/lib.sh")
st=$?
if [[ $st != 0 || -z $got || -e $got ]]; then
	echo "FAIL: scratch_mnt: exit $st, '$got' left behind or not made"
	rc=1
else
	echo "ok: scratch_mnt cleans up under set -e"
fi
exit $rc
