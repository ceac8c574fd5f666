package capture

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// threadNices returns the nice value of each thread of this process
// (proc(5): /proc/self/task/TID/stat, field 19).
func threadNices(t *testing.T) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/self/task/*/stat")
	if err != nil || len(stats) == 0 {
		t.Skipf("no /proc/self/task here: %v", err)
	}
	var nices []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the thread ended
		}
		// Fields after the command, which is in parentheses and may hold spaces.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 17 {
			t.Fatalf("%s: %d fields after the command", path, len(f))
		}
		n, err := strconv.Atoi(f[16]) // field 19 of the line; f[0] is field 3
		if err != nil {
			t.Fatalf("%s: nice %q: %v", path, f[16], err)
		}
		nices = append(nices, n)
	}
	return nices
}

// TestRecorderNice: the recorder's thread takes TapConfig.RecorderNice
// (13 here, a value nothing else in the process uses) for as long as the
// tap runs.
func TestRecorderNice(t *testing.T) {
	f := newTapFixture(t, http.NotFoundHandler(), TapConfig{RecorderNice: 13})
	has13 := func() bool {
		for _, n := range threadNices(t) {
			if n == 13 {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(10 * time.Second)
	for !has13() {
		if time.Now().After(deadline) {
			t.Fatalf("no thread at nice 13 after 10 s: %v", threadNices(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.close(t)
}

// TestRecorderNiceRange: NewTap refuses a nice value the recorder cannot
// take below the requests.
func TestRecorderNiceRange(t *testing.T) {
	up, _ := url.Parse("http://127.0.0.1:1")
	for _, nice := range []int{-1, 20} {
		_, err := NewTap(TapConfig{Upstream: up, Output: &memOutput{}, Scrub: ScrubConfig{Key: []byte("k")}, RecorderNice: nice})
		if err == nil || !strings.Contains(err.Error(), "RecorderNice "+strconv.Itoa(nice)) {
			t.Errorf("NewTap with RecorderNice %d = %v; want an error naming it", nice, err)
		}
	}
}
