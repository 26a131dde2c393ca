package xdptest

import (
	"math/bits"
	"math/rand/v2"
)

// Failure is an input that failed the program's checks.
type Failure struct {
	Input Input
	// Problems says what each failing check found.
	Problems []string
	// Runs is the number of inputs run before this one was found.
	Runs int
}

// Search looks for an input that fails the program's checks, without go test -fuzz: it mutates the
// seeds, keeps every mutant that reaches something new in the program (the features go test -fuzz
// sees through this package), and mutates those in turn, for at most runs inputs. It returns the
// first failing input, or nil. Like RunInput, it runs each input's neighbours too (unless
// WithExactInputs). The search is deterministic for a given rng seed, so a test that
// uses it passes or fails the same way on a fast machine and on a loaded one; at a few hundred
// thousand inputs a second it is a quick check to run in go test, while go test -fuzz is the
// campaign.
func (p *Program) Search(seeds [][]byte, runs int, seed uint64) *Failure {
	s := &searcher{p: p, rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), seen: map[hit]bool{}}
	for _, pkt := range seeds {
		if f := s.try(pkt); f != nil {
			return f
		}
	}
	if len(s.corpus) == 0 {
		s.corpus = append(s.corpus, entry{pkt: []byte{}})
	}
	buf := make([]byte, 0, maxSearchLen)
	for s.runs < runs {
		// Mostly the newest entries: they are the frontier of what the search has reached.
		n := len(s.corpus)
		i := n - 1 - int(float64(n)*s.rng.Float64()*s.rng.Float64())
		buf = s.mutate(append(buf[:0], s.corpus[i].pkt...))
		if f := s.try(buf); f != nil {
			return f
		}
	}
	return nil
}

// maxSearchLen bounds the packets Search makes: a standard Ethernet frame and then some.
const maxSearchLen = 2048

type entry struct{ pkt []byte }

type searcher struct {
	p      *Program
	rng    *rand.Rand
	seen   map[hit]bool
	corpus []entry
	runs   int
}

// try runs pkt (and its neighbours); it keeps a copy in the corpus if it reached something new.
func (s *searcher) try(pkt []byte) *Failure {
	s.runs++
	_, failed, msgs, err := s.p.run(Input{Packet: pkt}, s.p.cfg.checks, s.p.solve)
	if err == nil && len(msgs) > 0 {
		return &Failure{Input: Input{Packet: append([]byte(nil), failed.Packet...)}, Problems: msgs, Runs: s.runs}
	}
	added := false
	for _, h := range s.p.feats.pending {
		h.n = uint64(1) << (bits.Len64(min(h.n, 255)) - 1)
		if !s.seen[h] {
			s.seen[h] = true
			added = true
		}
	}
	if added {
		s.corpus = append(s.corpus, entry{pkt: append([]byte(nil), pkt...)})
	}
	return nil
}

var interesting = []uint64{0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff}

// mutate changes b in one to four random ways.
func (s *searcher) mutate(b []byte) []byte {
	r := s.rng
	for range 1 + r.IntN(4) {
		if len(b) == 0 {
			b = append(b, byte(r.IntN(256)))
			continue
		}
		pos := r.IntN(len(b))
		switch r.IntN(9) {
		case 0: // flip a bit
			b[pos] ^= 1 << r.IntN(8)
		case 1: // a random byte
			b[pos] = byte(r.IntN(256))
		case 2: // add or subtract a little
			b[pos] += byte(r.IntN(71) - 35)
		case 3: // an interesting value, 1, 2 or 4 bytes, either byte order
			v := interesting[r.IntN(len(interesting))]
			n := 1 << r.IntN(3)
			for k := 0; k < n && pos+k < len(b); k++ {
				shift := 8 * k
				if r.IntN(2) == 0 {
					shift = 8 * (n - 1 - k)
				}
				b[pos+k] = byte(v >> shift)
			}
		case 4: // delete a few bytes
			n := min(1+r.IntN(8), len(b)-pos)
			b = append(b[:pos], b[pos+n:]...)
		case 5: // insert a few random bytes
			if len(b) < maxSearchLen-8 {
				n := 1 + r.IntN(8)
				b = append(b, make([]byte, n)...)
				copy(b[pos+n:], b[pos:])
				for k := range n {
					b[pos+k] = byte(r.IntN(256))
				}
			}
		case 6: // copy a chunk within the packet
			src, n := r.IntN(len(b)), 1+r.IntN(8)
			n = min(n, len(b)-src, len(b)-pos)
			copy(b[pos:pos+n], b[src:src+n])
		case 7: // cut the tail
			b = b[:pos+1]
		default: // a chunk of another corpus entry, at the same place
			o := s.corpus[r.IntN(len(s.corpus))].pkt
			if pos < len(o) {
				n := min(1+r.IntN(16), len(o)-pos, len(b)-pos)
				copy(b[pos:pos+n], o[pos:pos+n])
			}
		}
	}
	return b
}
