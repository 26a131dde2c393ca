#!/bin/sh
# Rebuilds the verifier corpus: CATEGORY.c -> CATEGORY.o, with -mcpu=v4 (the corpus uses sign
# extension, bswap and signed division). Usage: build.sh [CATEGORY.c ...] (default: every source);
# OUT=DIR writes the objects to DIR instead of next to the sources. Programs that call kfuncs
# include xdpsim's declarations from ../../kfuncs/include.
# Run through `go generate ./corpus`; it does nothing (and says so) where clang-19 is missing, so
# the committed objects stay as they are. After a rebuild, relabel with
#   go test ./corpus -run TestVerifierLabels -update   (as root, on the labelling kernel)
set -eu
cd "$(dirname "$0")"

CLANG=${CLANG:-clang-19}
STRIP=${STRIP:-llvm-strip-19}
if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "build.sh: $CLANG not found, keeping the committed objects" >&2
	exit 0
fi

if [ $# -eq 0 ]; then
	set -- *.c
fi
OUT=${OUT:-.}
for src in "$@"; do
	obj="$OUT/${src%.c}.o"
	"$CLANG" -O2 -g -target bpf -mcpu=v4 -Wall -Werror \
		-I/usr/include/x86_64-linux-gnu -I../../kfuncs/include \
		-fdebug-prefix-map="$PWD"=. -fdebug-compilation-dir=. \
		-c "$src" -o "$obj"
	# Drop DWARF but keep .BTF and .BTF.ext (line info: the log's source lines).
	if command -v "$STRIP" >/dev/null 2>&1; then
		"$STRIP" -g "$obj"
	fi
done
