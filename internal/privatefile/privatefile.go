// Package privatefile writes the files the exporter makes for its user
// (the roster, an Admin Console export, a refresh token): whole or not at
// all, and readable by the owner alone, since they hold personal data or a
// secret.
package privatefile

import (
	"io"

	"github.com/google/renameio/v2"
)

// Write calls write with a temporary file beside path, syncs it and renames
// it over path, with mode 0600 whatever the umask. If write fails, path is
// left as it was.
func Write(path string, write func(io.Writer) error) error {
	pending, err := renameio.NewPendingFile(path, renameio.WithStaticPermissions(0o600))
	if err != nil {
		return err
	}
	defer pending.Cleanup()
	if err := write(pending); err != nil {
		return err
	}
	return pending.CloseAtomicallyReplace()
}

// WriteLine writes one line: a secret and a newline.
func WriteLine(path, line string) error {
	return Write(path, func(w io.Writer) error {
		_, err := io.WriteString(w, line+"\n")
		return err
	})
}
