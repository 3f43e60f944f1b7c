package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v3"

	"github.com/asana-exporter/asana_exporter/internal/inputfile"
)

// listeners are the server's listen addresses, bound, and the scheme it
// serves them with.
type listeners struct {
	flags *web.FlagConfig
	// bound is nil where exporter-toolkit binds: systemd's sockets (bound
	// already) and vsock.
	bound  []net.Listener
	scheme string // http or https
}

// listen checks --web.config.file and binds --web.listen-address, so that a
// wrong file or a busy port stops the start before anything else, and
// before a line says where the metrics are.
func listen(flags *web.FlagConfig) (*listeners, error) {
	l := &listeners{flags: flags, scheme: "http"}
	if file := *flags.WebConfigFile; file != "" {
		// Read within a bound first: exporter-toolkit reads it whole.
		tls, err := servesTLS(file)
		if err == nil {
			err = web.Validate(file)
		}
		if err != nil {
			return nil, fmt.Errorf("--web.config.file=%s: %w", file, err)
		}
		if tls {
			l.scheme = "https"
		}
	}
	addresses := *flags.WebListenAddresses
	if *flags.WebSystemdSocket || len(addresses) == 0 || slices.ContainsFunc(addresses, isVsock) {
		return l, nil
	}
	for _, address := range addresses {
		bound, err := net.Listen("tcp", address)
		if err != nil {
			l.close()
			return nil, fmt.Errorf("--web.listen-address=%s: %w", address, err)
		}
		l.bound = append(l.bound, bound)
	}
	return l, nil
}

func isVsock(address string) bool { return strings.HasPrefix(address, "vsock://") }

// maxWebConfigBytes bounds --web.config.file: TLS file paths, cipher
// lists and a few bcrypt hashes take a few KiB; a user list of thousands
// still fits.
const maxWebConfigBytes = 1 << 20

// servesTLS reports whether a web config turns TLS on, as exporter-toolkit
// decides it.
func servesTLS(file string) (bool, error) {
	raw, err := inputfile.ReadAll(file, maxWebConfigBytes)
	if err != nil {
		return false, err
	}
	var c web.Config
	if err := yaml.Unmarshal(raw, &c); err != nil {
		return false, err
	}
	return c.TLSConfig.IsEnabled(), nil
}

// serve serves srv until it stops.
func (l *listeners) serve(srv *http.Server, logger *slog.Logger) error {
	if l.bound == nil {
		return web.ListenAndServe(srv, l.flags, logger)
	}
	return web.ServeMultiple(l.bound, srv, l.flags, logger)
}

// url is where a browser on this host finds path on the first address; ""
// when exporter-toolkit binds.
func (l *listeners) url(path string) string {
	if l.bound == nil {
		return ""
	}
	host, port, err := net.SplitHostPort(l.bound[0].Addr().String())
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return l.scheme + "://" + net.JoinHostPort(host, port) + path
}

// close releases the addresses of a server that will not serve.
func (l *listeners) close() {
	for _, b := range l.bound {
		b.Close() // the start failed already: a failure to close adds nothing
	}
}
