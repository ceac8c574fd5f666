package capture

import "golang.org/x/sys/unix"

// lowerThreadPriority sets the calling OS thread's nice value (Linux keeps
// one per thread: setpriority(2) with PRIO_PROCESS and a thread id). Raising
// one's own nice value needs no privilege; lowering it (a process started
// at a nice value above nice) needs CAP_SYS_NICE or RLIMIT_NICE, and
// without them setpriority returns EACCES and the thread keeps its value.
func lowerThreadPriority(nice int) error {
	return unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), nice)
}
