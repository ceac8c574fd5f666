//go:build unix

package main

import "syscall"

// demoMaxConns is the demo's connection bound: as many as the process's
// descriptors allow with the platform in the same process (two descriptors
// a loopback connection: ours and the platform's), less a margin for
// files, listeners and epoll, between 1,024 and the per-user default of
// 16,384. A lower bound makes the driver close other users' idle
// connections for new ones (a heartbeat then pays a new connection); a
// higher one runs out of descriptors (connect errors).
func demoMaxConns() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return demoDefaultConns
	}
	return int(min(max((int64(lim.Cur)-2048)/2, 1024), 16384))
}
