package exporter_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/exporter"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// onTerminal runs write with a pseudo-terminal as its output and returns
// what the terminal received.
func onTerminal(t *testing.T, write func(tty *os.File)) string {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	var n uint32
	unlock := int32(0)
	for _, c := range []struct {
		req uintptr
		arg unsafe.Pointer
	}{{syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)}, {syscall.TIOCGPTN, unsafe.Pointer(&n)}} {
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), c.req, uintptr(c.arg)); errno != 0 {
			t.Fatalf("pseudo-terminal: %v", errno)
		}
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var screen strings.Builder
	copied := make(chan struct{})
	go func() { io.Copy(&screen, ptmx); close(copied) }() // ends with EIO once tty is closed
	write(tty)
	tty.Close()
	select {
	case <-copied:
	case <-time.After(10 * time.Second):
		t.Fatal("the terminal's output did not end")
	}
	return screen.String()
}

// TestSeatsCSVOnATerminalShowsNoControlCharacters: the roster's CSV and the
// reconcile's, written to a terminal, show a name's control characters
// escaped, as the table does; written to a file, they keep its exact bytes.
func TestSeatsCSVOnATerminalShowsNoControlCharacters(t *testing.T) {
	p := newInProcess(t, setup{}, asanatest.WorkspaceSpec{Name: "Hostile", IsOrganization: true, Licensed: len(hostile)})
	var console strings.Builder
	console.WriteString("Email\n")
	p.srv.Mutate(func(o *asanatest.Org) {
		for i, m := range o.Workspaces[0].Memberships {
			m.User.Name = hostile[i]
			fmt.Fprintf(&console, "%s\n", m.User.Email)
		}
	})
	reconcile := p.write(t, "console.csv", console.String())
	for name, opts := range map[string]exporter.SeatsOptions{
		"roster":    {Format: roster.CSV},
		"reconcile": {Format: roster.CSV, FormatSet: true, Reconcile: reconcile},
	} {
		t.Run(name, func(t *testing.T) {
			seats := func(out *os.File) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if err := p.exp.Seats(ctx, opts, out, io.Discard); err != nil {
					t.Errorf("seats: %v", err)
				}
			}
			screen := onTerminal(t, seats)
			if i := strings.IndexFunc(screen, func(r rune) bool { return r == '\x1b' || r == '\a' || r == '\u202e' }); i >= 0 {
				t.Errorf("a control character reached the terminal: %q", screen[max(0, i-20):min(len(screen), i+20)])
			}
			for _, want := range []string{`\u001b[2J\u001b[31mred`, `two\u000alines`, `\u202eevil\u202c`, "'=HYPERLINK("} {
				if !strings.Contains(screen, want) {
					t.Errorf("the terminal does not show %q:\n%s", want, screen)
				}
			}

			f, err := os.Create(p.dir + "/" + name + ".csv")
			if err != nil {
				t.Fatal(err)
			}
			seats(f)
			f.Close()
			file, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"\x1b[2J\x1b[31mred", "\"two\nlines\"", "\u202eevil\u202c", "'=HYPERLINK("} {
				if !strings.Contains(string(file), want) {
					t.Errorf("the file lacks the exact %q", want)
				}
			}
		})
	}
}
