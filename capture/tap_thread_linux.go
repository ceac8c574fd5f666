package capture

import "golang.org/x/sys/unix"

// lowerThreadPriority sets the calling OS thread's nice value (Linux keeps
// one per thread: setpriority(2) with PRIO_PROCESS and a thread id). Raising
// one's own nice value needs no privilege; a failure leaves the default.
func lowerThreadPriority(nice int) {
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), nice)
}
