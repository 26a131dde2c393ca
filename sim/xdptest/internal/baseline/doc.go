// Package baseline holds the fuzz targets the README's "before" figures are measured with: the
// harness a user writes without xdptest, running sim directly, so that Go's fuzzer is steered by
// the simulator's own coverage. Compare with package targets, alternating the runs:
//
//	go test -fuzz='^FuzzSimDirectly$' -fuzztime 60s ./sim/xdptest/internal/baseline   # planted bug
//	go test -fuzz=FuzzSimDirectlyParser -fuzztime 30s ./sim/xdptest/internal/baseline # execs/s
package baseline
