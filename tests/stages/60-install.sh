#!/usr/bin/env bash
# uvfs installs like a system component: a staged `cmake --install`
# (files, man pages, completion, dkms build, an out-of-tree backend with
# pkg-config mounted by mount(8) and fstab through the staged helper),
# then the Debian packages from scripts/package.sh install, work and
# purge cleanly.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: $0 BUILD}
rc=0
bash "$top/tests/install/test_install.sh" "$build" || rc=1
echo "== scripts/package.sh $build"
if "$top/scripts/package.sh" "$build"; then
	bash "$top/tests/install/test_deb.sh" "$build" || rc=1
else
	echo "FAIL scripts/package.sh: no packages"
	rc=1
fi
exit $rc
