package capture

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// A slot is one cache line: the point of the table.
func TestLiveSessionIsOneCacheLine(t *testing.T) {
	if n := unsafe.Sizeof(liveSession{}); n != 64 {
		t.Errorf("liveSession is %d bytes; want 64", n)
	}
}

// The table agrees with a map through inserts, updates, growth and sweeps,
// keys clustered on purpose (equal low bits) as well as random.
func TestLiveTableMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var tab liveTable
	model := map[uint64]int64{}
	for step := range 200_000 {
		var k uint64
		if step%3 == 0 {
			k = uint64(r.IntN(5000)) << 40 // differs only in high bits
		} else {
			k = r.Uint64N(50_000)
		}
		slot := tab.find(k)
		last, ok := model[k]
		if slot.used != ok || ok && (slot.key != k || slot.last != last) {
			t.Fatalf("step %d key %#x: table used=%v last=%d; map ok=%v last=%d", step, k, slot.used, slot.last, ok, last)
		}
		tab.put(slot, liveSession{key: k, last: int64(step)})
		model[k] = int64(step)
		if step%40_000 == 39_999 { // sweep the older half
			cut := int64(step - 20_000)
			tab.retain(func(ls *liveSession) bool { return ls.last >= cut })
			for k, l := range model {
				if l < cut {
					delete(model, k)
				}
			}
		}
		if tab.len() != len(model) {
			t.Fatalf("step %d: table holds %d; map %d", step, tab.len(), len(model))
		}
	}
	tab.retain(func(*liveSession) bool { return false })
	if tab.len() != 0 || len(tab.slots) != minLiveSlots {
		t.Errorf("after dropping all: %d sessions in %d slots; want 0 in %d", tab.len(), len(tab.slots), minLiveSlots)
	}
}
