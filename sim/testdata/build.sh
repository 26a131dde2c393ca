#!/bin/sh
# Rebuilds the loader's test objects: NAME.c -> NAME.o (-mcpu=v3, DWARF stripped, BTF kept).
# Run through `go generate ./sim` (the directive sits in load_test.go). Without clang-19 it does
# nothing and says so, keeping the committed objects.
set -eu
cd "$(dirname "$0")"

CLANG=${CLANG:-clang-19}
STRIP=${STRIP:-llvm-strip-19}
if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "build.sh: $CLANG not found, keeping the committed objects" >&2
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
