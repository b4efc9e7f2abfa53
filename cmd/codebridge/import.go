package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/ingest"
)

// importActor is the actor recorded on everything the import command writes.
const importActor = "import"

// maxNDJSONLine bounds one NDJSON line (one resource).
const maxNDJSONLine = 64 << 20

func newImportCmd(getenv func(string) string, g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE|DIR...",
		Short: "Load FHIR Bundles (.json) and NDJSON files (.ndjson) into the store, as the FHIR API would",
		Long: `Import loads FHIR R4 data through the same path as the HTTP API: the
validating parser, the mapping to store writes, and one database transaction
per transaction Bundle or per resource. Transaction and batch Bundles are
processed as sent; the entries of any other Bundle (collection, searchset...)
are ingested as a batch (PUT Type/id when they have an id, else POST). An
NDJSON file holds one resource per line. Directories are walked for .json
and .ndjson files. The exit status is non-zero when anything was rejected.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(getenv, g)
			if err != nil {
				return err
			}
			if cfg.DatabaseURL == "" {
				return fmt.Errorf("CODEBRIDGE_DATABASE_URL: required")
			}
			files, total, err := importFiles(args)
			if err != nil {
				return err
			}
			db, err := postgres.Open(cmd.Context(), cfg.DatabaseURL, postgres.Options{MaxOpenConns: 2, StatementCache: cfg.StatementCacheSize()})
			if err != nil {
				return err
			}
			defer db.Close()
			if _, err := postgres.Migrate(cmd.Context(), db.DB); err != nil {
				return err
			}
			parser, err := fhir.NewParser()
			if err != nil {
				return err
			}
			bar := progressbar.NewOptions64(total,
				progressbar.OptionSetWriter(stderr),
				progressbar.OptionSetDescription("importing"),
				progressbar.OptionShowBytes(true),
				progressbar.OptionShowCount(),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }),
			)
			// No entry limit: exports are often large collections. The store
			// is configured as serve's, so imported work items write their
			// status events (and the relay of a running serve sends them).
			im := &importer{svc: &ingest.Service{Parser: parser, Store: postgres.NewStore(db, storeOptions(cfg))}, bar: bar}
			for _, f := range files {
				if err := im.importFile(cmd.Context(), f); err != nil {
					return err
				}
			}
			_ = bar.Finish()
			return im.report(stdout)
		},
	}
}

// importFiles expands the arguments into the files to import, in order, and
// their total size for the progress bar.
func importFiles(args []string) ([]string, int64, error) {
	var files []string
	var total int64
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, 0, err
		}
		if !st.IsDir() {
			files = append(files, a)
			total += st.Size()
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if ext := strings.ToLower(filepath.Ext(p)); !d.IsDir() && (ext == ".json" || ext == ".ndjson") {
				found = append(found, p)
				if info, err := d.Info(); err == nil {
					total += info.Size()
				}
			}
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, total, nil
}

// importer ingests files through the shared ingest use case and keeps the
// tally for the summary.
type importer struct {
	svc      *ingest.Service
	bar      *progressbar.ProgressBar
	accepted int
	skipped  int
	rejected []string // "where: reason"
}

// importFile ingests one file; only I/O and receiver failures (the
// database) are returned, rejected resources are tallied.
func (im *importer) importFile(ctx context.Context, path string) error {
	if strings.EqualFold(filepath.Ext(path), ".ndjson") {
		return im.importNDJSON(ctx, path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	defer func() { _ = im.bar.Add(len(raw)) }()
	return im.ingest(ctx, path, raw)
}

// importNDJSON ingests one resource per non-empty line.
func (im *importer) importNDJSON(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), maxNDJSONLine)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		_ = im.bar.Add(len(line) + 1)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := im.ingest(ctx, fmt.Sprintf("%s:%d", path, n), bytes.Clone(line)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// ingest ingests one resource or Bundle as the HTTP API would (see
// ingest.Service.Raw) and tallies the outcome; a receiver fault (the
// database down) stops the import.
func (im *importer) ingest(ctx context.Context, where string, raw []byte) error {
	res, err := im.svc.Raw(ctx, importActor, raw)
	if err != nil {
		if ingest.IsReceiverFault(err) {
			return fmt.Errorf("%s: %w", where, err)
		}
		im.reject(where, err)
		return nil
	}
	for _, e := range res.Entries {
		switch {
		case e.Err != nil && ingest.IsReceiverFault(e.Err):
			return fmt.Errorf("%s: entry[%d]: %w", where, e.Index, e.Err)
		case e.Err != nil:
			im.reject(fmt.Sprintf("%s: entry[%d]", where, e.Index), e.Err)
		case e.Skipped != "":
			im.skipped++
		default:
			im.accepted++
		}
	}
	return nil
}

func (im *importer) reject(where string, err error) {
	im.rejected = append(im.rejected, where+": "+err.Error())
}

// report prints the summary and returns an error when anything was rejected.
func (im *importer) report(w io.Writer) error {
	fmt.Fprintf(w, "accepted %d, skipped %d (types codebridge does not use), rejected %d\n", im.accepted, im.skipped, len(im.rejected))
	for _, r := range im.rejected {
		fmt.Fprintf(w, "  rejected %s\n", r)
	}
	if len(im.rejected) > 0 {
		return fmt.Errorf("import: %d rejected; first: %s", len(im.rejected), im.rejected[0])
	}
	return nil
}
