package deploy_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

const routePassword = "route-secret"

// clusterEnv sets what deploy/cluster/compose.yml gives every node.
func clusterEnv(t *testing.T, name string) {
	t.Helper()
	setPasswords(t)
	t.Setenv("NATS_SERVER_NAME", name)
	t.Setenv("ROUTE_PASSWORD", routePassword)
	for i, host := range []string{"nats", "nats-2", "nats-3"} {
		t.Setenv(fmt.Sprintf("NATS_ROUTE_%d", i+1), routeURL(host+":6222").String())
	}
}

// routeURL is the URL a node dials the route port at hostPort with, the
// route credentials in it.
func routeURL(hostPort string) *url.URL {
	return &url.URL{Scheme: "nats-route", User: url.UserPassword("route", routePassword), Host: hostPort}
}

// TestClusterConf loads deploy/cluster/cluster.conf as a cluster node would:
// it takes nats.conf's users, accepts routes only with the route
// credentials, and dials the three nodes with them.
func TestClusterConf(t *testing.T) {
	clusterEnv(t, "nats-2")
	opts, err := server.ProcessConfigFile("cluster/cluster.conf")
	if err != nil {
		t.Fatalf("cluster.conf: %v", err)
	}
	if opts.ServerName != "nats-2" || opts.Cluster.Name != "headroom" || len(opts.Routes) != 3 || !opts.JetStream {
		t.Fatalf("cluster.conf: server %q, cluster %q, %d routes, jetstream %v", opts.ServerName, opts.Cluster.Name, len(opts.Routes), opts.JetStream)
	}
	if len(opts.Users) != len(users) {
		t.Fatalf("cluster.conf has %d users, want nats.conf's %d", len(opts.Users), len(users))
	}
	if opts.Cluster.Username != "route" || opts.Cluster.Password != routePassword {
		t.Fatalf("cluster.conf accepts routes as %q/%q, want route/ROUTE_PASSWORD", opts.Cluster.Username, opts.Cluster.Password)
	}
	for _, r := range opts.Routes {
		if pass, _ := r.User.Password(); r.User.Username() != "route" || pass != routePassword {
			t.Errorf("route %s dials without the route credentials", r.Redacted())
		}
	}
}

// TestClusterConfNeedsRoutePassword: without ROUTE_PASSWORD the node does
// not start, rather than accepting any process as a route.
func TestClusterConfNeedsRoutePassword(t *testing.T) {
	clusterEnv(t, "nats-1")
	t.Setenv("ROUTE_PASSWORD", "")
	os.Unsetenv("ROUTE_PASSWORD")
	if _, err := server.ProcessConfigFile("cluster/cluster.conf"); err == nil {
		t.Fatal("cluster.conf loaded without ROUTE_PASSWORD")
	}
}

// runClusterNode starts a node from deploy/cluster/cluster.conf on
// loopback, dialing routes instead of the compose hosts.
func runClusterNode(t *testing.T, name string, routes []*url.URL) *server.Server {
	t.Helper()
	clusterEnv(t, name)
	return startConfigured(t, "cluster/cluster.conf", func(opts *server.Options) {
		opts.Cluster.Host, opts.Cluster.Port = "127.0.0.1", -1
		opts.Routes = routes
		// Routes are what is tested; a JetStream cluster would wait for a
		// quorum of three before the node is ready.
		opts.JetStream = false
	})
}

// TestClusterRefusesUncredentialedRoutes: a process that reaches a node's
// route port (any container on the compose network) and connects as a
// route without the route credentials, or with wrong ones, is refused,
// and a node with them joins.
func TestClusterRefusesUncredentialedRoutes(t *testing.T) {
	a := runClusterNode(t, "nats-1", nil)

	for _, c := range []struct{ name, creds string }{
		{"no credentials", ""},
		{"wrong password", `"user":"route","pass":"guess",`},
		{"a service's credentials", `"user":"gateway","pass":"gateway-secret",`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := dialRoute(t, "nats://"+a.ClusterAddr().String())
			r.Send(t, `CONNECT {`+c.creds+`"verbose":false,"pedantic":false,"tls_required":false,"name":"intruder","cluster":"headroom"}`+"\r\nPING\r\n")
			got := strings.Join(r.UntilPong(t), "\n")
			if !strings.Contains(got, "Authorization Violation") {
				t.Fatalf("route connect with %s: server said %q, want an authorization violation", c.name, got)
			}
		})
	}
	if n := a.NumRoutes(); n != 0 {
		t.Fatalf("%d routes after the refused connects, want 0", n)
	}

	// A node dialing with the credentials, as compose configures it, joins.
	b := runClusterNode(t, "nats-2", []*url.URL{routeURL(a.ClusterAddr().String())})
	natstest.Eventually(t, 10*time.Second, func() error {
		if a.NumRoutes() == 0 || b.NumRoutes() == 0 {
			return fmt.Errorf("node with the route credentials did not join: routes %d and %d", a.NumRoutes(), b.NumRoutes())
		}
		return nil
	})
}

// TestClusterConfFormsAJetStreamCluster starts three nodes from
// cluster.conf, as compose does but on loopback. The second and third list
// only the first, so the route between them is one they learn from it and
// dial with the cluster's own credentials. All three routes form and
// provisioning at three replicas places every stream on all three nodes.
// The services then work from their own accounts on a node that leads
// neither METRICS nor the replica bucket.
func TestClusterConfFormsAJetStreamCluster(t *testing.T) {
	ports := []int{natstest.FreePort(t), natstest.FreePort(t), natstest.FreePort(t)}
	routeTo := func(i int) *url.URL { return routeURL(fmt.Sprintf("127.0.0.1:%d", ports[i])) }
	var nodes []*server.Server
	for i := range ports {
		clusterEnv(t, fmt.Sprintf("nats-%d", i+1))
		routes := []*url.URL{routeTo(0)}
		if i == 0 {
			routes = []*url.URL{routeTo(1)}
		}
		nodes = append(nodes, launchConfigured(t, "cluster/cluster.conf", func(opts *server.Options) {
			opts.Cluster.Host, opts.Cluster.Port = "127.0.0.1", ports[i]
			opts.Routes = routes
		}))
	}
	natstest.Eventually(t, 30*time.Second, func() error {
		for _, s := range nodes {
			rz, err := s.Routez(nil)
			if err != nil {
				return err
			}
			peers := map[string]bool{}
			for _, r := range rz.Routes {
				peers[r.RemoteName] = true
			}
			if len(peers) != 2 || !s.JetStreamIsClustered() {
				return fmt.Errorf("%s: routes to %v, JetStream clustered %v", s.Name(), peers, s.JetStreamIsClustered())
			}
		}
		return nil
	})
	// -stream.replicas 3, as deploy/cluster/compose.yml provisions.
	admin := connectConfigured(t, nodes[2].ClientURL(), "provision", zerolog.Nop(), func(c *bus.Config) { c.Streams.Replicas = 3 })
	natstest.Eventually(t, 60*time.Second, func() error {
		// The first requests may time out while the meta leader is elected.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return admin.Provision(ctx)
	})
	js := natstest.JetStream(t, admin)
	for _, k := range proto.Kinds {
		name := proto.StreamName(proto.DefaultPrefix, k)
		st, err := js.Stream(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if c := st.CachedInfo().Cluster; c == nil || c.Leader == "" || len(c.Replicas) != 2 {
			t.Fatalf("%s: placed %+v, want a leader and two replicas", name, c)
		}
	}

	// The services, each in its own account, through the imports of
	// HEADROOM on a node that leads neither METRICS nor the bucket: their
	// requests, pulls, acks and the collector's push deliveries and flow
	// control cross the routes to the leaders and back, and the batched
	// direct gets are answered by any replica.
	leaders := map[string]bool{}
	for _, name := range []string{"METRICS", "KV_REPLICAS"} {
		st, err := js.Stream(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		leaders[st.CachedInfo().Cluster.Leader] = true
	}
	var follower *server.Server
	for _, s := range nodes {
		if !leaders[s.Name()] {
			follower = s
		}
	}
	t.Logf("services connect to %s; METRICS and KV_REPLICAS are led by %v", follower.Name(), leaders)
	url := follower.ClientURL()
	collectorWatchesBucket(t, nodes[2].ClientURL(), url)
	rebuildsStoredHistory(t, url, admin, false)
}

// dialRoute opens a raw connection to a route port and reads its INFO.
func dialRoute(t *testing.T, routeURL string) *natstest.Raw {
	t.Helper()
	c := natstest.DialRaw(t, routeURL)
	if info := c.Line(t); !strings.HasPrefix(info, "INFO ") || !strings.Contains(info, `"auth_required":true`) {
		t.Fatalf("route port greeted with %q, want an INFO requiring authentication", info)
	}
	return c
}

// TestClusterBoundsAnAccountAcrossNodes: an account's connection bound
// (nats.conf's limits { max_connections }) counts its connections on every
// node of the cluster, not per node: the nodes tell each other their count
// through the system account. An identity holding most of its bound on one
// node is refused on another once the two together reach it, so a cluster
// of n nodes does not hand one stolen password n times the bound (and a
// service's copies spread over the nodes share one bound).
func TestClusterBoundsAnAccountAcrossNodes(t *testing.T) {
	a := runClusterNode(t, "nats-1", nil)
	b := runClusterNode(t, "nats-2", []*url.URL{routeURL(a.ClusterAddr().String())})
	natstest.Eventually(t, 10*time.Second, func() error {
		if a.NumRoutes() == 0 || b.NumRoutes() == 0 {
			return fmt.Errorf("routes %d and %d", a.NumRoutes(), b.NumRoutes())
		}
		return nil
	})
	gateway := map[string]any{"user": "gateway", "pass": "gateway-secret"}
	const onA = maxAccountConnections - 8
	for i := 0; i < onA; i++ {
		if c, refused := natstest.DialClient(t, a.ClientURL(), gateway); c == nil {
			t.Fatalf("connection %d on the first node refused: %q", i+1, refused)
		}
	}
	readers, err := b.LookupAccount("READERS")
	if err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		if n := readers.NumConnections(); n < onA {
			return fmt.Errorf("the second node counts %d of READERS' connections, want the first node's %d", n, onA)
		}
		return nil
	})
	opened, refusal := 0, ""
	for opened < maxAccountConnections && refusal == "" {
		if c, refused := natstest.DialClient(t, b.ClientURL(), gateway); c == nil {
			refusal = refused
		} else {
			opened++
		}
	}
	if onA+opened > maxAccountConnections {
		t.Errorf("the gateway held %d connections on the first node and %d more on the second, past its account's %d", onA, opened, maxAccountConnections)
	}
	if !strings.Contains(strings.ToLower(refusal), "account active connections exceeded") {
		t.Errorf("the second node refused the gateway after %d connections with %q, want its account's bound", opened, refusal)
	}
}
