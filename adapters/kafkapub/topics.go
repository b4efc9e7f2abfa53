package kafkapub

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// EnsureTopics creates topics that do not exist yet, with partitions and
// replication, through the cluster's controller. Existing topics are left
// as they are. When creation is refused (no permission, a cluster policy),
// it is enough that the topics already exist; otherwise the refusal is the
// error.
func EnsureTopics(ctx context.Context, o Options, partitions, replication int, topics ...string) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("kafkapub.EnsureTopics: %w", err)
		}
	}()
	conn, d, err := o.dialAny(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	ctrl, err := conn.Controller()
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	cc, err := d.DialContext(ctx, "tcp", hostPort(ctrl))
	if err != nil {
		return fmt.Errorf("dial controller: %w", err)
	}
	defer cc.Close()
	cfgs := make([]kafka.TopicConfig, len(topics))
	for i, t := range topics {
		cfgs[i] = kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: replication}
	}
	cerr := cc.CreateTopics(cfgs...)
	if cerr == nil {
		return nil
	}
	if verr := topicsExist(conn, topics); verr != nil {
		return errors.Join(fmt.Errorf("create: %w", cerr), verr)
	}
	return nil
}

// topicsExist checks that every topic has partitions.
func topicsExist(conn *kafka.Conn, topics []string) error {
	for _, t := range topics {
		ps, err := conn.ReadPartitions(t)
		if err != nil || len(ps) == 0 {
			return fmt.Errorf("topic %s does not exist: %v", t, err)
		}
	}
	return nil
}
