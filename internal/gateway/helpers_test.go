package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// env is a NATS server, a bus, a running gateway and an HTTP server for it.
type env struct {
	natsURL string
	bus     *bus.Bus
	gw      *gateway.Gateway
	srv     *httptest.Server
	reg     *prometheus.Registry
	stop    func()
}

func mustBus(tb testing.TB, url, name string) *bus.Bus {
	tb.Helper()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = url, name
	cfg.Streams.Memory = true
	b, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.EnsureStreams(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return b
}

// startGateway runs a gateway for cfg on b and serves it on a fresh server.
func startGateway(tb testing.TB, b *bus.Bus, cfg gateway.Config) (*gateway.Gateway, *http.ServeMux, *prometheus.Registry, func()) {
	tb.Helper()
	return startGatewayLog(tb, b, cfg, zerolog.New(zerolog.NewTestWriter(tb)).Level(zerolog.WarnLevel))
}

// startGatewayLog is startGateway logging to log.
func startGatewayLog(tb testing.TB, b *bus.Bus, cfg gateway.Config, log zerolog.Logger) (*gateway.Gateway, *http.ServeMux, *prometheus.Registry, func()) {
	tb.Helper()
	reg := prometheus.NewRegistry()
	ready := service.NewReady()
	mux := http.NewServeMux()
	g, err := gateway.New(cfg, service.Deps{Bus: b, Log: log, Reg: reg, Ready: ready, Mux: mux})
	if err != nil {
		tb.Fatal(err)
	}
	stop := natstest.Serve(tb, "gateway run", g.Run)
	natstest.Eventually(tb, 10*time.Second, ready.Err)
	return g, mux, reg, stop
}

func startEnv(tb testing.TB, cfg gateway.Config) *env {
	tb.Helper()
	return startEnvLog(tb, cfg, zerolog.New(zerolog.NewTestWriter(tb)).Level(zerolog.WarnLevel))
}

// startEnvLog is startEnv with the gateway logging to log.
func startEnvLog(tb testing.TB, cfg gateway.Config, log zerolog.Logger) *env {
	tb.Helper()
	url := natstest.RunJetStream(tb)
	b := mustBus(tb, url, "test")
	g, mux, reg, stop := startGatewayLog(tb, b, cfg, log)
	srv := httptest.NewServer(mux)
	e := &env{natsURL: url, bus: b, gw: g, srv: srv, reg: reg, stop: stop}
	tb.Cleanup(func() { stop(); srv.Close() })
	return e
}

// frame is any server frame, decoded loosely for assertions.
type frame struct {
	Type      string   `msgpack:"type"`
	Sub       string   `msgpack:"sub"`
	Subject   string   `msgpack:"subject"`
	Stream    string   `msgpack:"stream"`
	Seq       uint64   `msgpack:"seq"`
	TS        int64    `msgpack:"ts"`
	Data      []byte   `msgpack:"data"`
	Count     int      `msgpack:"count"`
	Truncated bool     `msgpack:"truncated"`
	Reason    string   `msgpack:"reason"`
	Code      string   `msgpack:"code"`
	Message   string   `msgpack:"message"`
	Prefix    string   `msgpack:"prefix"`
	Subjects  []string `msgpack:"subjects"`
}

// wsClient reads every frame of a connection into a channel.
type wsClient struct {
	conn   *websocket.Conn
	frames chan frame
	closed chan error
	pause  chan struct{}
}

// stopReading makes the client stop reading from its socket, like a stuck tab.
func (c *wsClient) stopReading() { close(c.pause) }

func dial(tb testing.TB, srvURL, query string, h http.Header) (*wsClient, *http.Response, error) {
	tb.Helper()
	u := "ws" + strings.TrimPrefix(srvURL, "http") + "/ws" + query
	conn, resp, err := websocket.DefaultDialer.Dial(u, h)
	if err != nil {
		return nil, resp, err
	}
	c := &wsClient{conn: conn, frames: make(chan frame, 100000), closed: make(chan error, 1), pause: make(chan struct{})}
	go func() {
		for {
			select {
			case <-c.pause:
				return
			default:
			}
			_, data, err := conn.ReadMessage()
			if err != nil {
				c.closed <- err
				close(c.frames)
				return
			}
			dec := msgpack.NewDecoder(bytes.NewReader(data))
			for {
				var f frame
				if err := dec.Decode(&f); err != nil {
					if !errors.Is(err, io.EOF) {
						tb.Errorf("decode frame: %v", err)
					}
					break
				}
				c.frames <- f
			}
		}
	}()
	tb.Cleanup(func() { _ = conn.Close() })
	return c, resp, nil
}

func mustDial(tb testing.TB, srvURL string) *wsClient {
	tb.Helper()
	c, _, err := dial(tb, srvURL, "", nil)
	if err != nil {
		tb.Fatal(err)
	}
	if f := c.next(tb); f.Type != gateway.FrameHello || f.Prefix != "apm" {
		tb.Fatalf("first frame %+v, want hello", f)
	}
	return c
}

func (c *wsClient) send(tb testing.TB, req gateway.Request) {
	tb.Helper()
	if err := c.conn.WriteJSON(req); err != nil {
		tb.Fatal(err)
	}
}

func (c *wsClient) next(tb testing.TB) frame {
	tb.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			tb.Fatal("connection closed")
		}
		return f
	case <-time.After(10 * time.Second):
		tb.Fatal("no frame in 10s")
	}
	return frame{}
}

// until collects frames up to and including the first of type typ.
func (c *wsClient) until(tb testing.TB, typ string) []frame {
	tb.Helper()
	var out []frame
	for {
		f := c.next(tb)
		out = append(out, f)
		if f.Type == typ {
			return out
		}
	}
}

var base = time.Now().Add(-24 * time.Hour).Truncate(time.Minute)

func tick(app, tier string, minute int, rps float64) bus.Out {
	m := proto.NewMetrics(app, tier, base.Add(time.Duration(minute)*time.Minute), 2, proto.Floats{"rps": rps})
	return bus.Out{Subject: proto.MetricsSubject("apm", app, tier), Msg: m}
}

func publish(tb testing.TB, b *bus.Bus, outs ...bus.Out) {
	tb.Helper()
	for _, o := range outs {
		if err := b.Publish(context.Background(), o); err != nil {
			tb.Fatal(err)
		}
	}
}

// metricValue sums every series of the named counter or gauge.
func metricValue(tb testing.TB, reg *prometheus.Registry, name string) float64 {
	tb.Helper()
	v, _ := metricstest.Sum(tb, reg, name)
	return v
}

// httptestServer serves mux on a loopback port until the test ends.
func httptestServer(tb testing.TB, mux *http.ServeMux) string {
	tb.Helper()
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv.URL
}
