package kafkapub

import (
	"fmt"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is an in-memory, single-node Kafka-protocol broker (franz-go's
// kfake) for `codebridge dev` and tests. It speaks the real protocol on a
// real TCP address, so kafka-go, franz-go and kcat all connect to it. Its
// data lives only as long as the process.
type Embedded struct {
	c    *kfake.Cluster
	addr string
}

// EmbeddedOptions tune the embedded broker.
type EmbeddedOptions struct {
	// MaxMessageBytes is the broker's message.max.bytes; zero keeps kfake's
	// default (1 MiB).
	MaxMessageBytes int
}

// StartEmbedded starts the broker listening on addr (host:port; port 0
// picks a free one).
func StartEmbedded(addr string, o EmbeddedOptions) (*Embedded, error) {
	listen := func(network, _ string) (net.Listener, error) { return net.Listen(network, addr) }
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.ListenFn(listen), kfake.ClusterID("codebridge-embedded")}
	if o.MaxMessageBytes > 0 {
		opts = append(opts, kfake.BrokerConfigs(map[string]string{
			"message.max.bytes": strconv.Itoa(o.MaxMessageBytes)}))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafkapub: embedded broker on %s: %w", addr, err)
	}
	return &Embedded{c: c, addr: c.ListenAddrs()[0]}, nil
}

// Addr returns the address the broker listens on.
func (e *Embedded) Addr() string { return e.addr }

// Close stops the broker; its data is gone.
func (e *Embedded) Close() { e.c.Close() }
