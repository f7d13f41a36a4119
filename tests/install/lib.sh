# shellcheck shell=bash disable=SC2034 # build, here, top: for the caller
# The start both install tests share (sourced by test_install.sh and
# test_deb.sh): tests/cli/lib.sh's helpers, and install_init.

# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

# install_init BUILD NAME: sets build (absolute), here (tests/install), top
# and tmp, a fresh directory under /tmp/install that every user may read
# (the staged and installed files run as nobody too); unsets
# UVFS_BACKEND_PATH, which would hide where the installed uvfsd looks.
install_init() {
	build=$(cd "${1:?usage: $0 BUILD}" && pwd) || exit 2
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	top=$(cd "$here/../.." && pwd)
	mkdir -p /tmp/install
	tmp=$(mktemp -d "/tmp/install/$2.XXXXXX")
	chmod 755 "$tmp"
	unset UVFS_BACKEND_PATH
}
