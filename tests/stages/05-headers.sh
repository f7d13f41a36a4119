#!/usr/bin/env bash
# The private headers agree with their files: scripts/check-headers.sh on
# its default list of headers.  First, on a made-up header, that the
# checker finds each kind of mismatch and nothing else.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
check=$top/scripts/check-headers.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/x_i.h" <<'H'
/* ---- a.c: things of a ---- */
int in_a(void);
struct s *in_a2(int x,
		int y);
int in_b(void);
int nowhere(void);
static inline int inl(void)
{
	return 0;
}
/* ---- types ---- */
struct s {
	int (*fn)(void);
};
int no_section(void);
/* ---- ops in a.c / b.c ---- */
int in_b2(void);
H
cat >"$tmp/a.c" <<'C'
int nowhere(void);
int in_a(void)
{
	return nowhere();
}

struct s *
in_a2(int x, int y)
{
	return 0;
}
C
cat >"$tmp/b.c" <<'C'
int in_b(void) {
	return 1;
}

static int in_b2(int x,
		 int y)
{
	return x + y;
}

int no_section(void)
{
	return 0;
}
C
want="$tmp/x_i.h: in_b: declared under a.c, defined in b.c
$tmp/x_i.h: nowhere: declared under a.c, defined nowhere
$tmp/x_i.h: no_section: declared under no file, defined in b.c"
got=$("$check" "$tmp/x_i.h")
rc=$?
if [[ $rc != 1 || $got != "$want" ]]; then
	echo "FAIL: check-headers.sh on a made-up header (exit $rc):"
	echo "$got"
	echo "expected (exit 1):"
	echo "$want"
	exit 1
fi
echo "ok: check-headers.sh finds each kind of mismatch"

if ! "$check"; then
	echo "FAIL: the private headers and their files disagree (above)"
	exit 1
fi
echo "ok: private headers agree with their files"
