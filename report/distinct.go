package report

import (
	"hash/maphash"
	"math"
	"math/bits"
)

// exactLimit is how many distinct values a Distinct counts exactly before it
// switches to an estimate.
const exactLimit = 1 << 20

// hllP is the HyperLogLog precision: 2^14 registers, ≈ 0.8% standard error.
const hllP = 14

var seed = maphash.MakeSeed()

// Distinct counts distinct strings in bounded memory: exactly up to about a
// million values (a set of 64-bit hashes), then as a HyperLogLog estimate.
// The zero value is ready to use.
type Distinct struct {
	set map[uint64]struct{}
	hll []uint8
}

// Add counts s.
func (d *Distinct) Add(s string) {
	h := maphash.String(seed, s)
	if d.hll != nil {
		d.addHLL(h)
		return
	}
	if d.set == nil {
		d.set = map[uint64]struct{}{}
	}
	d.set[h] = struct{}{}
	if len(d.set) > exactLimit {
		d.hll = make([]uint8, 1<<hllP)
		for h := range d.set {
			d.addHLL(h)
		}
		d.set = nil
	}
}

func (d *Distinct) addHLL(h uint64) {
	i := h >> (64 - hllP)
	rank := uint8(bits.LeadingZeros64(h<<hllP|1<<(hllP-1)) + 1)
	d.hll[i] = max(d.hll[i], rank)
}

// Count returns the number of distinct strings added, and whether it is
// exact (a 64-bit hash collision aside) rather than an estimate.
func (d *Distinct) Count() (n int64, exact bool) {
	if d.hll == nil {
		return int64(len(d.set)), true
	}
	m := float64(len(d.hll))
	sum, zeros := 0.0, 0
	for _, r := range d.hll {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		est = m * math.Log(m/float64(zeros))
	}
	return int64(est + 0.5), false
}
