package replay

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// File is an output file that never hurts the user:
//
//   - a regular file (or a new one) appears whole or not at all: it is written beside its final
//     name and renamed into place on Commit, with the mode the file had, or for a new file the
//     permissions a shell redirection would give it (0666 less the umask);
//   - a symbolic link is followed, and the file it points to is replaced;
//   - anything else (a device such as /dev/null or /dev/stdout, a FIFO, a socket) is written in
//     place, as it comes, since it cannot be replaced;
//   - "-" is the writer given as stdout.
type File struct {
	final string
	f     *os.File
	tmp   bool
	bw    *bufio.Writer
	err   error
}

// CreateFile opens path for writing as File describes; "-" writes to stdout.
func CreateFile(path string, stdout io.Writer) (*File, error) {
	if path == "-" {
		return &File{bw: bufio.NewWriter(stdout)}, nil
	}
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved
	}
	mode, existed := fs.FileMode(0o666), false
	st, err := os.Stat(target)
	switch {
	case err == nil && !st.Mode().IsRegular():
		if st.IsDir() {
			return nil, fmt.Errorf("%s is a directory", path)
		}
		f, err := os.OpenFile(target, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		return &File{final: target, f: f, bw: bufio.NewWriter(f)}, nil
	case err == nil:
		mode, existed = st.Mode().Perm(), true
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	f, err := createTemp(target, mode)
	if err != nil {
		// The error names the temporary file; say which output it was for.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
			if _, serr := os.Stat(filepath.Dir(target)); errors.Is(serr, fs.ErrNotExist) {
				err = fmt.Errorf("directory %s does not exist", filepath.Dir(target))
			}
		}
		return nil, fmt.Errorf("cannot create %s: %w", path, err)
	}
	if existed {
		// An existing file keeps its mode, whatever the umask.
		if err := f.Chmod(mode); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
	}
	return &File{final: target, f: f, tmp: true, bw: bufio.NewWriter(f)}, nil
}

// createTemp creates a new file beside path, with mode less the umask (os.CreateTemp would make it
// 0600 whatever the umask).
func createTemp(path string, mode fs.FileMode) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		name := filepath.Join(dir, "."+base+"."+strconv.FormatUint(rand.Uint64()&0xffffffff, 36)+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("%s: cannot create a temporary file beside it", path)
}

// Write buffers b; the first error sticks and is returned by Commit too.
func (f *File) Write(b []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.bw.Write(b)
	f.err = err
	return n, err
}

// Commit flushes the file and, for a regular file, renames it into place.
func (f *File) Commit() error {
	if f.err == nil {
		f.err = f.bw.Flush()
	}
	if f.f == nil {
		return f.err
	}
	if f.err != nil {
		f.Abort()
		return f.err
	}
	if err := f.f.Close(); err != nil {
		if f.tmp {
			os.Remove(f.f.Name())
		}
		return err
	}
	if !f.tmp {
		return nil
	}
	return os.Rename(f.f.Name(), f.final)
}

// Abort removes a temporary file (a device or FIFO written in place is left as it is).
func (f *File) Abort() {
	if f.f == nil {
		return
	}
	f.f.Close()
	if f.tmp {
		os.Remove(f.f.Name())
	}
}
