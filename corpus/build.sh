#!/bin/sh
# Rebuilds every corpus object: NAME.c -> NAME.v3.o and NAME.v4.o.
# Run through `go generate ./corpus`; it does nothing (and says so) where clang-19 is missing,
# so the committed objects stay as they are. Programs that call kfuncs include xdpsim's
# declarations from ../kfuncs/include (xdpsim_kfuncs.h, xdp_skb_metadata.h), and programs that
# declare a control map (--feature control-map) include ../sim/device/include/xdpsim_control.h.
set -eu
cd "$(dirname "$0")"

CLANG=${CLANG:-clang-19}
STRIP=${STRIP:-llvm-strip-19}
if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "build.sh: $CLANG not found, keeping the committed objects" >&2
	exit 0
fi

for src in *.c; do
	name=${src%.c}
	for cpu in v3 v4; do
		obj="$name.$cpu.o"
		"$CLANG" -O2 -g -target bpf -mcpu="$cpu" -Wall -Werror \
			-I/usr/include/x86_64-linux-gnu -I../kfuncs/include -I../sim/device/include \
			-fdebug-prefix-map="$PWD"=. -fdebug-compilation-dir=. \
			-c "$src" -o "$obj"
		# Drop DWARF but keep .BTF and .BTF.ext (line info for source-level faults).
		if command -v "$STRIP" >/dev/null 2>&1; then
			"$STRIP" -g "$obj"
		fi
	done
done
