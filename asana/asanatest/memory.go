package asanatest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
)

// memoryHost is the host of a NewMemoryServer's URLs: .invalid, so that
// nothing but its Transport can reach it.
const memoryHost = "asanatest.invalid:80"

// NewMemoryServer is NewServer on in-memory connections (net.Pipe) instead
// of a loopback port: only its Transport (and Client) reach it. A test in
// a testing/synctest bubble needs it: the bubble's fake clock only moves
// while every goroutine waits on something inside the bubble, which a
// socket is not. A Reset fault closes the connection mid-body, as there is
// no TCP to reset. Close it when done.
func NewMemoryServer(org *Org, cfg Config) *Server {
	api := NewAPI(org, cfg)
	l := &memoryListener{conns: make(chan net.Conn), closed: make(chan struct{})}
	ts := &httptest.Server{Listener: l, Config: &http.Server{Handler: api}}
	ts.Start()
	tr := &http.Transport{DialContext: l.dial, MaxIdleConnsPerHost: 50}
	ts.Client().Transport = tr
	return &Server{API: api, Server: ts, BaseURL: ts.URL + apiPrefix, Transport: tr}
}

// memoryListener hands the server one end of a net.Pipe per dial.
type memoryListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *memoryListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *memoryListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *memoryListener) Addr() net.Addr { return memoryAddr{} }

// dial connects to the server, and refuses any other address: a test that
// means to reach another server must not reach this one instead.
func (l *memoryListener) dial(ctx context.Context, _, addr string) (_ net.Conn, err error) {
	if addr != memoryHost {
		return nil, fmt.Errorf("asanatest: the in-memory server's transport cannot reach %s", addr)
	}
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		err = net.ErrClosed
	case <-ctx.Done():
		err = ctx.Err()
	}
	server.Close()
	client.Close()
	return nil, err
}

type memoryAddr struct{}

func (memoryAddr) Network() string { return "memory" }
func (memoryAddr) String() string  { return memoryHost }
