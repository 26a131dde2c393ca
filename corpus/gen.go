package corpus

// Rebuild every object (NAME.c -> NAME.v3.o, NAME.v4.o) where clang-19 is installed, then the
// traces, then the verifier corpus (verifier/CATEGORY.c -> CATEGORY.o; relabel afterwards, see
// verifier/README.md). Run with `go generate ./corpus` from the module root.
//
//go:generate sh ./build.sh
//go:generate go run ./cmd/gentrace -out traces
//go:generate sh ./verifier/build.sh
