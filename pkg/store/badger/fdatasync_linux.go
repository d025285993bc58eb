package badger

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data (not its times), as Badger's msync of a
// memtable log does.
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
