// Package targets holds fuzz targets of corpus programs written as a user writes them, in a test
// binary that imports nothing but xdptest (so that go test -fuzz measures what a user gets):
//
//	go test -fuzz=FuzzPlantedBug ./sim/xdptest/internal/targets   # finds corpus/planted_bug.c's bug
//	go test -fuzz=FuzzParser ./sim/xdptest/internal/targets       # execs/s on a ~40-instruction parser
package targets
