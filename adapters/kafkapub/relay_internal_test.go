package kafkapub

import (
	"testing"
	"time"
)

// TestRelayDefaultsLeaseOutlivesPublish checks that a claim's lease always
// covers a whole round (publish plus settle), whatever was asked for.
func TestRelayDefaultsLeaseOutlivesPublish(t *testing.T) {
	for _, tc := range []struct {
		name                string
		lease, publish      time.Duration
		wantLease, wantPubl time.Duration
	}{
		{"zero values", 0, 0, 2*30*time.Second + SettleTimeout, 30 * time.Second},
		{"lease too short for the default publish", 10 * time.Second, 0, 2*30*time.Second + SettleTimeout, 30 * time.Second},
		{"lease too short for a long publish", 2 * time.Minute, 2 * time.Minute, 4*time.Minute + SettleTimeout, 2 * time.Minute},
		{"short publish, short lease", 0, time.Second, 2*time.Second + SettleTimeout, time.Second},
		{"long enough lease kept", 10 * time.Minute, 30 * time.Second, 10 * time.Minute, 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := RelayOptions{Lease: tc.lease, PublishTimeout: tc.publish}
			o.defaults()
			if o.Lease != tc.wantLease || o.PublishTimeout != tc.wantPubl {
				t.Errorf("Lease, PublishTimeout = %v, %v; want %v, %v", o.Lease, o.PublishTimeout, tc.wantLease, tc.wantPubl)
			}
			if o.Lease < 2*o.PublishTimeout+SettleTimeout {
				t.Errorf("Lease %v < 2×PublishTimeout %v + settle %v", o.Lease, o.PublishTimeout, SettleTimeout)
			}
		})
	}
	o := RelayOptions{}
	o.defaults()
	if o.Batch != 500 || o.Poll != 20*time.Millisecond || o.MaxMessageBytes != 1_000_000 ||
		o.Retry.MaxAttempts != 10 || o.Retention != 7*24*time.Hour || o.SweepEvery != time.Minute || o.Logger == nil {
		t.Errorf("defaults = %+v", o)
	}
}
