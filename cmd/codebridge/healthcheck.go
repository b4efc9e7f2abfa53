package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// newHealthcheckCmd probes /healthz of a local instance; container images
// without a shell or curl use it as their HEALTHCHECK.
func newHealthcheckCmd(getenv func(string) string, g *globalFlags, stdout io.Writer) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the local instance answers its health endpoint (for container HEALTHCHECK)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(getenv, g)
			if err != nil {
				return err
			}
			host, port, _ := net.SplitHostPort(cfg.HTTPAddr)
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "127.0.0.1"
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+net.JoinHostPort(host, port)+path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s answered %d", path, resp.StatusCode)
			}
			fmt.Fprintln(stdout, "ok")
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "path", "/healthz", "path to probe (/healthz or /readyz)")
	return cmd
}
