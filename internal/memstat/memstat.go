// Package memstat owns reading this process's resident memory from
// /proc/self/status (proc(5)): the current resident set (VmRSS) and its
// peak (VmHWM). Unlike the rusage a parent sees, these are the process's
// own, not memory the child shared with its parent before exec.
package memstat

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// RSS returns the resident set size in bytes, or 0 where /proc is not
// available.
func RSS() int64 { return status("VmRSS:") }

// PeakRSS returns the peak resident set size in bytes, or 0 where /proc is
// not available.
func PeakRSS() int64 { return status("VmHWM:") }

// status reads the "KEY  N kB" line of /proc/self/status, in bytes.
func status(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
