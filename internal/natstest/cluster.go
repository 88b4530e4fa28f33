package natstest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a JetStream cluster of servers running inside the test
// process, as nats-server's own cluster tests run them.
type Cluster struct {
	Servers []*server.Server
}

// StartCluster starts n clustered JetStream servers on random loopback
// ports, each storing under its own temporary directory, and waits until
// they have elected a JetStream meta leader that can place a stream on all
// n of them. They shut down when the test ends.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	return StartClusterStore(tb, n, MaxStore)
}

// StartClusterStore is StartCluster with a JetStream file store of
// maxStore bytes on each server (jetstream max_file_store).
func StartClusterStore(tb testing.TB, n int, maxStore int64) *Cluster {
	tb.Helper()
	c := &Cluster{}
	// Every server is given every route up front, on ports picked free.
	routes := make([]*url.URL, n)
	for i := range routes {
		routes[i] = &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", FreePort(tb))}
	}
	for i := range n {
		opts := &server.Options{
			ServerName:        fmt.Sprintf("n%d", i+1),
			Host:              "127.0.0.1",
			Port:              -1,
			JetStream:         true,
			StoreDir:          tb.TempDir(),
			JetStreamMaxStore: maxStore,
			NoLog:             os.Getenv("NATS_LOGGING") == "",
			NoSigs:            true,
			MaxPending:        256 << 20,
			Cluster:           server.ClusterOpts{Name: "headroom-test", Host: "127.0.0.1", Port: port(routes[i])},
			Routes:            routes,
		}
		s, err := server.NewServer(opts)
		if err != nil {
			tb.Fatalf("nats server %d: %v", i+1, err)
		}
		if !opts.NoLog {
			s.ConfigureLogger()
		}
		s.Start() // a clustered server is ready only once its peers are up
		tb.Cleanup(func() {
			s.Shutdown()
			s.WaitForShutdown()
		})
		c.Servers = append(c.Servers, s)
	}
	for _, s := range c.Servers {
		if !s.ReadyForConnections(20 * time.Second) {
			tb.Fatalf("nats server %s not ready in 20s", s.Name())
		}
	}
	Eventually(tb, 30*time.Second, func() error {
		for _, s := range c.Servers {
			if s.Running() && s.NumRoutes() < n-1 {
				return fmt.Errorf("%s has %d routes, want %d", s.Name(), s.NumRoutes(), n-1)
			}
			if s.Running() && !s.JetStreamIsClustered() {
				return fmt.Errorf("%s: jetstream not clustered yet", s.Name())
			}
		}
		l := c.Leader()
		if l == nil {
			return fmt.Errorf("no jetstream meta leader yet")
		}
		// A stream at n replicas is placed only on peers whose
		// statistics the leader has received.
		if p := len(l.JetStreamClusterPeers()); p < n {
			return fmt.Errorf("the meta leader can place on %d of %d peers", p, n)
		}
		return nil
	})
	return c
}

// FreePort returns a loopback TCP port free at the time of asking.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// URL lists every running server's client URL, comma-separated, the way a
// client is given a cluster.
func (c *Cluster) URL() string {
	var urls []string
	for _, s := range c.Servers {
		if s.Running() {
			urls = append(urls, s.ClientURL())
		}
	}
	return strings.Join(urls, ",")
}

// Leader returns the JetStream meta leader, nil while there is none.
func (c *Cluster) Leader() *server.Server {
	for _, s := range c.Servers {
		if s.Running() && s.JetStreamIsLeader() {
			return s
		}
	}
	return nil
}

func port(u *url.URL) int {
	p, _ := strconv.Atoi(u.Port())
	return p
}
