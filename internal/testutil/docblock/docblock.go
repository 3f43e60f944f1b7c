// Package docblock keeps a block of a document that is generated from the
// code in step with it: the block lies between two marker lines, a test
// fails while it differs from what the code generates, and the same test
// run with its update flag rewrites it (make docs).
package docblock

import (
	"bytes"
	"fmt"
	"os"
	"slices"
)

// Block is a generated part of a document.
type Block struct {
	Path       string // the document
	Begin, End string // the marker lines around the block
	// Regenerate says how to rewrite the block, for the failure message.
	Regenerate string
}

// Check compares the block with want. With update it rewrites a stale
// block in place and returns nil; without, a stale block is an error that
// gives want and how to regenerate.
func (b Block) Check(want string, update bool) error {
	doc, err := os.ReadFile(b.Path)
	if err != nil {
		return err
	}
	before, rest, ok := bytes.Cut(doc, []byte(b.Begin))
	got, after, ok2 := bytes.Cut(rest, []byte(b.End))
	if !ok || !ok2 {
		return fmt.Errorf("%s lacks the markers %q and %q", b.Path, b.Begin, b.End)
	}
	if string(got) == want {
		return nil
	}
	if !update {
		return fmt.Errorf("%s is out of date; run %s. It should read:\n%s", b.Path, b.Regenerate, want)
	}
	out := slices.Concat(before, []byte(b.Begin), []byte(want), []byte(b.End), after)
	return os.WriteFile(b.Path, out, 0o644)
}
