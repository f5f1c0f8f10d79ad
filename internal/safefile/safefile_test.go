package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestReadRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "spec.cue")
	if err := os.WriteFile(regular, []byte("daemons: {}\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.cue")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	zeroLink := filepath.Join(dir, "zero.json")
	if err := os.Symlink("/dev/zero", zeroLink); err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, name := range []string{fifo, zeroLink, "/dev/zero", dir} {
			_, err := Read(name, 1<<20)
			var nr *NotRegularError
			if !errors.As(err, &nr) {
				t.Errorf("Read(%s) = %v, want a NotRegularError", name, err)
			}
		}
		if b, err := Read(link, 1<<20); err != nil || string(b) != "daemons: {}\n" {
			t.Errorf("Read(link) = %q, %v; want the target's bytes", b, err)
		}
		_, err := ReadNoFollow(link, 1<<20)
		var nr *NotRegularError
		if !errors.As(err, &nr) || nr.Mode&os.ModeSymlink == 0 {
			t.Errorf("ReadNoFollow(link) = %v, want a NotRegularError for a symbolic link", err)
		}
		if _, err := Read(regular, 4); !errors.Is(err, ErrTooLarge) {
			t.Errorf("Read over the limit = %v, want ErrTooLarge", err)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("reading a special file hung")
	}
}
