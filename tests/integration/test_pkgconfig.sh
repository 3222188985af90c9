#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# An application outside the tree builds against the installed libzpath with
# `pkg-config --cflags --libs zpath` alone, links the shared library, and runs.
#
# The build is installed into a temporary DESTDIR; pkg-config reads a copy of the installed
# zpath.pc whose prefix= line points into it (--define-variable and PKG_CONFIG_SYSROOT_DIR
# would move DPDK's paths too, and DPDK stays where Debian put it).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_cmd pkg-config
require_cmd cc
[[ -d "$ZPATH_BUILD" ]] || fail "no build directory $ZPATH_BUILD"

dest="$ZPT_TMP/destdir"
meson install -C "$ZPATH_BUILD" --no-rebuild --quiet --destdir "$dest" >"$ZPT_TMP/install.log" 2>&1 ||
	{ cat "$ZPT_TMP/install.log" >&2; fail "meson install failed"; }
pc=$(find "$dest" -name zpath.pc -print -quit)
[[ -n "$pc" ]] || fail "meson install put no zpath.pc under $dest"
for h in zpath.h zpath_socket.h zpath_nmi.h; do
	[[ -n "$(find "$dest" -path "*/include/zpath/$h" -print -quit)" ]] || fail "$h not installed"
done
prefix=$(sed -n 's/^prefix=//p' "$pc")
mkdir -p "$ZPT_TMP/pc"
sed "s|^prefix=.*|prefix=$dest$prefix|" "$pc" >"$ZPT_TMP/pc/zpath.pc"
export PKG_CONFIG_PATH="$ZPT_TMP/pc"
flags=$(pkg-config --cflags --libs zpath) ||
	fail "pkg-config --cflags --libs zpath failed"
zpt_log "pkg-config: $flags"

cat >"$ZPT_TMP/app.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zpath/zpath.h>
#include <zpath/zpath_socket.h>

int main(void)
{
	/* Off a worker, every socket call must fail cleanly with EPERM (zpath_socket.h). */
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);
	if (fd != -1 || errno != EPERM) {
		printf("zp_socket off a worker: fd=%d errno=%s\n", fd, strerror(errno));
		return 1;
	}
	printf("zpath %s: zp_socket off a worker -> EPERM\n", ZPATH_VERSION);
	return 0;
}
C
libdir=$(pkg-config --variable=libdir zpath)
# A sanitized libzpath (the ASan/UBSan build) needs a sanitized application, as any user's would.
san=$(meson introspect --buildoptions "$ZPATH_BUILD" |
	"$ZPT_PYTHON" -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "b_sanitize"][0])')
sanflags=()
[[ "$san" != none ]] && sanflags=(-fsanitize="$san")
# shellcheck disable=SC2086 # $flags is a list of compiler arguments
cc -std=c11 -Wall -Werror "${sanflags[@]}" -o "$ZPT_TMP/app" "$ZPT_TMP/app.c" $flags -Wl,-rpath,"$libdir" \
	>"$ZPT_TMP/cc.log" 2>&1 || { cat "$ZPT_TMP/cc.log" >&2; fail "the application does not build"; }
out=$("$ZPT_TMP/app") || fail "the application failed: $out"
# Capture first: with pipefail, `ldd | grep -q` fails whenever grep's early exit kills ldd.
deps=$(ldd "$ZPT_TMP/app")
[[ "$deps" == *"$libdir/libzpath.so"* ]] || fail "not linked against the installed libzpath.so"
pass "$out"
