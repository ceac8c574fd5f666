package profile

import "math/bits"

// Every random-looking choice of Synth (which sessions a minute copies,
// where a repeated copy starts, a copy's ids) is a keyed hash of what it is
// about and the seed, as the shaper's are: 64-bit FNV-1a over the seed, two
// numbers and a key, finished with the SplitMix64 mixer. It is not
// cryptographic.

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Hash domains, so that choices about the same thing are independent.
const (
	domainDraw    = 'd' // the systematic sample's start in a minute
	domainOffset  = 'o' // a repeated copy's start within its minute
	domainSession = 's' // a copy's session id
	domainUser    = 'u' // a copy's user id
)

// synthHash returns the keyed hash of (domain, seed, a, b, key).
func synthHash(domain byte, seed, a, b uint64, key string) uint64 {
	h := uint64(fnvOffset)
	h = (h ^ uint64(domain)) * fnvPrime
	for _, v := range [3]uint64{seed, a, b} {
		for i := 0; i < 64; i += 8 {
			h = (h ^ (v >> i & 0xff)) * fnvPrime
		}
	}
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * fnvPrime
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// unit maps a hash to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// below maps a hash to [0, n) for n > 0.
func below(h uint64, n uint64) uint64 {
	hi, _ := bits.Mul64(h, n)
	return hi
}

// ident returns an id in the shape package capture writes: the namespace,
// an underscore and 16 hex digits of h.
func ident(namespace byte, h uint64) string {
	const digits = "0123456789abcdef"
	var b [18]byte
	b[0], b[1] = namespace, '_'
	for i := 17; i >= 2; i-- {
		b[i] = digits[h&0xf]
		h >>= 4
	}
	return string(b[:])
}
