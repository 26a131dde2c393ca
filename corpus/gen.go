package corpus

// Rebuild every object (NAME.c -> NAME.v3.o, NAME.v4.o) where clang-19 is installed, then the
// traces. Run with `go generate ./corpus` from the module root.
//
//go:generate sh ./build.sh
//go:generate go run ./cmd/gentrace -out traces
