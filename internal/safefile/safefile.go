// Package safefile reads the files daemongen reads (specs, JSON, variable files, existing
// outputs, the manifest, the journal, cache entries) so that no file can hang a run or
// exhaust its memory: only a regular file is read, never a FIFO, a device or a socket
// (whose size says nothing of what it yields), and never more than a limit. A FIFO is
// opened without blocking, so that a pipe with no writer cannot hang the open itself.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrTooLarge is returned, wrapped in a *LimitError, for a file over its limit.
var ErrTooLarge = errors.New("file too large")

// LimitError is a file larger than the limit it was read with.
type LimitError struct {
	Path  string
	Size  int64 // the size fstat gave, or limit+1 for a file that grew while read
	Limit int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s: the file is %d bytes; at most %d may be read", e.Path, e.Size, e.Limit)
}

func (e *LimitError) Unwrap() error { return ErrTooLarge }

// NotRegularError is a path that is not a regular file: a folder, a FIFO, a device, a
// socket, or (for [ReadNoFollow]) a symbolic link.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, Describe(e.Mode))
}

// Describe names the kind of file mode m is, for messages: "a named pipe (FIFO)", ...
func Describe(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsRegular():
		return "a regular file"
	}
	return "a special file"
}

// Read reads the regular file name, following symbolic links, and at most limit bytes:
// a larger file is a *LimitError, anything but a regular file a *NotRegularError.
func Read(name string, limit int64) ([]byte, error) {
	return read(name, limit, false)
}

// ReadNoFollow is Read for a file that must not be a symbolic link itself (the last
// element of name): a link is a *NotRegularError, and nothing it points to is opened.
func ReadNoFollow(name string, limit int64) ([]byte, error) {
	return read(name, limit, true)
}

func read(name string, limit int64, noFollow bool) ([]byte, error) {
	f, info, err := openRegular(name, noFollow)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info.Size() > limit {
		return nil, &LimitError{name, info.Size(), limit}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &LimitError{name, limit + 1, limit}
	}
	return b, nil
}

// openRegular opens name for reading when it is a regular file (and, with noFollow, not
// a link itself), and returns it with what fstat says of it; anything else is a
// *NotRegularError, and nothing it points to or holds is read.
func openRegular(name string, noFollow bool) (*os.File, fs.FileInfo, error) {
	if noFollow {
		info, err := os.Lstat(name)
		if err != nil {
			return nil, nil, err
		}
		if !info.Mode().IsRegular() {
			return nil, nil, &NotRegularError{name, info.Mode()}
		}
	}
	f, err := open(name, noFollow)
	if err != nil {
		if isLoopError(err) {
			return nil, nil, &NotRegularError{name, fs.ModeSymlink}
		}
		return nil, nil, err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = &NotRegularError{name, info.Mode()}
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// Head returns the first n bytes of the regular file name, which must not be a link
// (fewer when the file is shorter).
func Head(name string, n int) ([]byte, error) {
	f, _, err := openRegular(name, true)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := io.ReadFull(f, b)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return b[:k], err
}
