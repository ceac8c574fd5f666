// Package keyhash owns the pieces of surge's keyed hashes: the 64-bit FNV-1a
// constants, the SplitMix64 finalizer that spreads FNV-1a's poorly mixed
// high bits, the map of a hash to [0, 1), and the virtual-id shape. The
// shaper, profile synth, the account pool and the WebSocket drop order
// build their own keys from these, so every decision is the same on every
// machine and every run with a seed. Not cryptographic.
//
// FNV-1a: Fowler, Noll, Vo (http://www.isthe.com/chongo/tech/comp/fnv/);
// SplitMix64: Steele, Lea, Flood, "Fast splittable pseudorandom number
// generators" (OOPSLA 2014), the finalizer of Vigna's splitmix64.c.
package keyhash

// 64-bit FNV-1a offset basis and prime.
const (
	FNVOffset = 14695981039346656037
	FNVPrime  = 1099511628211
)

// Mix is the SplitMix64 finalizer: every output bit depends on every input
// bit.
func Mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// Unit maps a hash to [0, 1) with 53 bits of precision.
func Unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// Ident returns a virtual id: the namespace, an underscore and the 16 hex
// digits of h, the shape of the ids package capture writes ("s_00ab…").
func Ident(namespace byte, h uint64) string {
	const digits = "0123456789abcdef"
	var b [18]byte
	b[0], b[1] = namespace, '_'
	for i := 17; i >= 2; i-- {
		b[i] = digits[h&0xf]
		h >>= 4
	}
	return string(b[:])
}
