// Command cpufloor lists a workspace's memberships with as little CPU as a Go
// program can: one goroutine, one keep-alive connection, HTTP/1.1 written and
// read by hand, and no JSON decoding (it only finds each page's offset). It
// counts nothing, so it is not a client; the end-to-end benchmark runs it
// beside the exporter to measure what the requests alone cost on the
// machine, the floor under the exporter's CPU per membership.
//
// Usage: cpufloor HOST:PORT PATH TOKEN. It prints, as JSON, the pages it
// read and the wall and CPU time of the listing (start-up excluded), and
// exits non-zero on any answer but 200.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: cpufloor HOST:PORT PATH TOKEN")
		os.Exit(2)
	}
	start, startCPU := time.Now(), cpuTime()
	pages, err := list(os.Args[1], os.Args[2], os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, "cpufloor:", err)
		os.Exit(1)
	}
	fmt.Printf(`{"pages":%d,"wall_ns":%d,"cpu_ns":%d}`+"\n", pages, time.Since(start), cpuTime()-startCPU)
}

// cpuTime is the process's user and system time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func list(addr, path, token string) (int, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 64<<10)
	var body []byte
	offset := ""
	for pages := 1; ; pages++ {
		target := path + "?limit=100&opt_fields=is_active,is_guest,is_admin,is_view_only"
		if offset != "" {
			target += "&offset=" + url.QueryEscape(offset)
		}
		if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", target, addr, token); err != nil {
			return pages, err
		}
		if body, err = readResponse(r, body[:0]); err != nil {
			return pages, err
		}
		i := bytes.Index(body, []byte(`"next_page":{"offset":"`))
		if i < 0 {
			return pages, nil // next_page is null: the last page
		}
		rest := body[i+len(`"next_page":{"offset":"`):]
		offset = string(rest[:bytes.IndexByte(rest, '"')])
	}
}

// readResponse reads a 200 with a Content-Length or chunked body.
func readResponse(r *bufio.Reader, body []byte) ([]byte, error) {
	status, err := r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
		return nil, fmt.Errorf("answer %q", bytes.TrimSpace(status))
	}
	length, chunked := -1, false
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		switch string(bytes.ToLower(name)) {
		case "content-length":
			length, _ = strconv.Atoi(string(bytes.TrimSpace(value)))
		case "transfer-encoding":
			chunked = bytes.Contains(value, []byte("chunked"))
		}
	}
	if !chunked {
		if length < 0 {
			return nil, errors.New("neither Content-Length nor chunked")
		}
		return readN(r, body, length)
	}
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 32)
		if err != nil {
			return nil, err
		}
		if size == 0 {
			_, err := r.Discard(2) // the CRLF after the last chunk
			return body, err
		}
		if body, err = readN(r, body, int(size)); err != nil {
			return nil, err
		}
		if _, err := r.Discard(2); err != nil {
			return nil, err
		}
	}
}

func readN(r *bufio.Reader, body []byte, n int) ([]byte, error) {
	start := len(body)
	body = append(body, make([]byte, n)...)
	_, err := io.ReadFull(r, body[start:])
	return body, err
}
