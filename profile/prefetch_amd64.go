package profile

import "unsafe"

// prefetch asks the CPU to start loading the cache line at addr into its
// caches, without waiting for it (PREFETCHT0): a hint, which never faults.
//
//go:noescape
func prefetch(addr unsafe.Pointer)
