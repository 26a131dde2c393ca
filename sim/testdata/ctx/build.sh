#!/bin/sh
# Rebuilds the objects of the context-rewriting tests: NAME.c -> NAME.o (BPF v4, BTF line info).
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
STRIP=${STRIP:-llvm-strip-19}
for src in *.c; do
	obj="${src%.c}.o"
	"$CLANG" -O2 -g -target bpf -mcpu=v4 -Wall -Werror \
		-I/usr/include/x86_64-linux-gnu \
		-fdebug-prefix-map="$PWD"=. -fdebug-compilation-dir=. \
		-c "$src" -o "$obj"
	"$STRIP" -g "$obj"
done
