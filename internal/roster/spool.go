package roster

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"os"

	"github.com/asana-exporter/asana_exporter/internal/cell"
)

// spool holds one workspace's rows on disk until its listing completes.
// Its file is unlinked as soon as it is created (where the system allows),
// so nothing is left behind if the process dies.
type spool struct {
	f      *os.File
	buf    *bufio.Writer
	csv    *csv.Writer
	rows   int
	widths [numColumns]int // display widths for the table format
}

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "asana_exporter-roster-*.csv") // mode 0600
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name()) // fails on Windows; close removes it there
	s := &spool{f: f, buf: bufio.NewWriterSize(f, 64<<10)}
	s.csv = csv.NewWriter(s.buf)
	return s, nil
}

// reset drops every row: the listing starts, or starts over.
func (s *spool) reset() error {
	s.csv.Flush()
	s.buf.Reset(s.f)
	s.rows, s.widths = 0, [numColumns]int{}
	if err := s.f.Truncate(0); err != nil {
		return err
	}
	_, err := s.f.Seek(0, io.SeekStart)
	return err
}

func (s *spool) add(c *Cells) error {
	s.rows++
	for i := range c {
		s.widths[i] = max(s.widths[i], cell.Width(c[i]))
	}
	return s.csv.Write(c[:])
}

// each reads the rows back in order.
func (s *spool) each(fn func(*Cells) error) error {
	if s.csv.Flush(); s.csv.Error() != nil {
		return s.csv.Error()
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := csv.NewReader(bufio.NewReaderSize(s.f, 64<<10))
	r.FieldsPerRecord = numColumns
	r.ReuseRecord = true
	var c Cells
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		copy(c[:], rec)
		if err := fn(&c); err != nil {
			return err
		}
	}
}

func (s *spool) close() {
	s.f.Close()
	os.Remove(s.f.Name())
}
