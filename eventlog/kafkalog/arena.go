package kafkalog

import "github.com/surge-replay/surge/schema"

// arenaBlock is how many header slots, int32s and int64s an arena allocates
// at a time.
const arenaBlock = 512

// arena hands a decoder the header slices and the optional numbers of many
// events from a few shared blocks instead of one allocation each. A block
// is never reused: what it handed out stays valid for as long as an event
// refers to it (which keeps the whole block alive). The zero value is
// ready; a nil *arena allocates every value on its own.
type arena struct {
	hdrs []schema.Header
	i32s []int32
	i64s []int64
}

// headers returns a zeroed slice of n headers whose capacity is n, so that
// appending to it never writes into a neighbour's.
func (a *arena) headers(n int) []schema.Header {
	if a == nil || n > arenaBlock/4 {
		return make([]schema.Header, n)
	}
	if len(a.hdrs)+n > cap(a.hdrs) {
		a.hdrs = make([]schema.Header, 0, arenaBlock)
	}
	i := len(a.hdrs)
	a.hdrs = a.hdrs[:i+n]
	return a.hdrs[i : i+n : i+n]
}

// int32 returns a pointer to a new int32 holding v.
func (a *arena) int32(v int32) *int32 {
	if a == nil {
		return schema.Int32(v)
	}
	if len(a.i32s) == cap(a.i32s) {
		a.i32s = make([]int32, 0, arenaBlock)
	}
	a.i32s = append(a.i32s, v)
	return &a.i32s[len(a.i32s)-1]
}

// int64 returns a pointer to a new int64 holding v.
func (a *arena) int64(v int64) *int64 {
	if a == nil {
		return schema.Int64(v)
	}
	if len(a.i64s) == cap(a.i64s) {
		a.i64s = make([]int64, 0, arenaBlock)
	}
	a.i64s = append(a.i64s, v)
	return &a.i64s[len(a.i64s)-1]
}
