package eventlog

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

var umask = sync.OnceValue(func() os.FileMode {
	// Linux 4.7+ shows the umask in /proc/self/status; reading it there
	// avoids umask(2)'s set-and-restore, which races with other goroutines
	// creating files.
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Umask:"); ok {
				if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					return os.FileMode(m) & 0o777
				}
			}
		}
	}
	return 0o022
})

// FilePerm is the permission of the files surge writes: 0666 less the
// process umask (0644 with the usual 022), as a file created by open(2)
// would get. Temporary files start private (0600) and get this before they
// are renamed into place, so a job run by another user can read them.
func FilePerm() os.FileMode { return 0o666 &^ umask() }

// DirPerm is the permission of the directories surge makes: 0777 less the
// umask (0755 with 022).
func DirPerm() os.FileMode { return 0o777 &^ umask() }
