package badger

import "syscall"

// dropMapping removes a shared file mapping's pages from the resident set
// (they stay in the file and the page cache).
func dropMapping(start, length uintptr) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, start, length, syscall.MADV_DONTNEED); errno != 0 {
		return errno
	}
	return nil
}
