#!/bin/sh
# Rebuilds the netkit setups' objects: NAME.c -> NAME.o (clang-19, -mcpu=v3).
# Run through `go generate ./corpus`; it does nothing (and says so) where clang-19 is missing.
set -eu
cd "$(dirname "$0")"

CLANG=${CLANG:-clang-19}
STRIP=${STRIP:-llvm-strip-19}
if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "netkit/build.sh: $CLANG not found, keeping the committed objects" >&2
	exit 0
fi
for src in *.c; do
	obj="${src%.c}.o"
	"$CLANG" -O2 -g -target bpf -mcpu=v3 -Wall -Werror \
		-I/usr/include/x86_64-linux-gnu \
		-fdebug-prefix-map="$PWD"=. -fdebug-compilation-dir=. \
		-c "$src" -o "$obj"
	if command -v "$STRIP" >/dev/null 2>&1; then
		"$STRIP" -g "$obj"
	fi
done
