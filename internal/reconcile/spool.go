package reconcile

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// spool holds on disk the memberships a report's findings show, so that a
// comparison of 10^6 memberships keeps in memory only where each is. Its
// file is unlinked as soon as it is created (where the system allows), as
// the roster's spool is.
type spool struct {
	f    *os.File
	w    *bufio.Writer
	size int64 // bytes written
	r    *bufio.Reader
	buf  []byte
}

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "asana_exporter-reconcile-*") // mode 0600
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name()) // fails on Windows; close removes it there
	return &spool{f: f, w: bufio.NewWriterSize(f, 64<<10), r: bufio.NewReaderSize(nil, 512)}, nil
}

// hasCreated marks, in an entry's first byte beside its state, that its
// creation time follows its fields.
const hasCreated = 0x80

// add writes the fields a finding shows of e and returns where it is.
func (s *spool) add(e roster.Entry) (at int64, err error) {
	first := byte(e.State)
	if !e.CreatedAt.IsZero() {
		first |= hasCreated
	}
	s.buf = append(s.buf[:0], first)
	for _, f := range []string{e.MembershipGID, e.UserEmail, e.UserName, e.Domain} {
		s.buf = binary.AppendUvarint(s.buf, uint64(len(f)))
		s.buf = append(s.buf, f...)
	}
	if first&hasCreated != 0 {
		s.buf = binary.AppendVarint(s.buf, e.CreatedAt.Unix())
	}
	at = s.size
	n, err := s.w.Write(s.buf)
	s.size += int64(n)
	return at, err
}

// read calls fn with the n entries written from at on.
func (s *spool) read(at int64, n int, fn func(roster.Entry) error) error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	s.r.Reset(io.NewSectionReader(s.f, at, s.size-at))
	for range n {
		first, err := s.r.ReadByte()
		if err != nil {
			return fmt.Errorf("reading back the reconcile spool: %w", err)
		}
		var f [4]string
		for i := range f {
			if f[i], err = s.readString(); err != nil {
				return err
			}
		}
		e := roster.Entry{State: asana.State(first &^ hasCreated), MembershipGID: f[0], UserEmail: f[1], UserName: f[2], Domain: f[3]}
		if first&hasCreated != 0 {
			created, err := binary.ReadVarint(s.r)
			if err != nil {
				return fmt.Errorf("reading back the reconcile spool: %w", err)
			}
			e.CreatedAt = time.Unix(created, 0).UTC()
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (s *spool) readString() (string, error) {
	n, err := binary.ReadUvarint(s.r)
	if err != nil {
		return "", fmt.Errorf("reading back the reconcile spool: %w", err)
	}
	if n > uint64(s.size) {
		return "", fmt.Errorf("reading back the reconcile spool: a field of %d bytes in a file of %d", n, s.size)
	}
	s.buf = slices.Grow(s.buf[:0], int(n))[:n]
	if _, err := io.ReadFull(s.r, s.buf); err != nil {
		return "", fmt.Errorf("reading back the reconcile spool: %w", err)
	}
	return string(s.buf), nil
}

func (s *spool) close() {
	s.f.Close()
	os.Remove(s.f.Name())
}
