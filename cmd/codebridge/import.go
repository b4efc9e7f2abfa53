package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
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
			db, err := postgres.Open(cmd.Context(), cfg.DatabaseURL, postgres.Options{MaxOpenConns: 2})
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
			im := &importer{parser: parser, store: postgres.NewStore(db), bar: bar}
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

// resourceStore is the part of the store the importer writes through.
type resourceStore interface {
	WriteResources(ctx context.Context, actor string, ws []workitem.ResourceWrite) ([]workitem.WriteResult, error)
	FindConditional(ctx context.Context, typ, criteria string) (string, bool, error)
}

// importer ingests files and keeps the tally for the summary.
type importer struct {
	parser   *fhir.Parser
	store    resourceStore
	bar      *progressbar.ProgressBar
	accepted int
	skipped  int
	rejected []string // "where: reason"
}

// importFile ingests one file; only I/O and database failures are returned,
// rejected resources are tallied.
func (im *importer) importFile(ctx context.Context, path string) error {
	if strings.EqualFold(filepath.Ext(path), ".ndjson") {
		return im.importNDJSON(ctx, path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	defer func() { _ = im.bar.Add(len(raw)) }()
	typ, _, err := fhir.Sniff(raw)
	if err != nil {
		im.reject(path, err)
		return nil
	}
	if typ != "Bundle" {
		return im.importResource(ctx, path, raw)
	}
	return im.importBundle(ctx, path, raw)
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
		if err := im.importResource(ctx, fmt.Sprintf("%s:%d", path, n), bytes.Clone(line)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// importResource ingests one resource as the HTTP API would: PUT Type/id
// when it carries an id, else POST with a new id.
func (im *importer) importResource(ctx context.Context, where string, raw []byte) error {
	res, err := im.parser.Parse(raw)
	if err != nil {
		im.reject(where, err)
		return nil
	}
	if !mapping.IsSupported(res.Type) {
		im.skipped++
		return nil
	}
	id, method := res.ID, "PUT"
	if id == "" {
		id, method = uuid.NewString(), "POST"
	}
	w, err := mapping.Prepare(res, id, method)
	if err != nil {
		im.reject(where, err)
		return nil
	}
	return im.write(ctx, where, []workitem.ResourceWrite{w})
}

// importBundle ingests a Bundle: a transaction in one database transaction,
// a batch (or any other Bundle type, as a batch) entry by entry.
func (im *importer) importBundle(ctx context.Context, path string, raw []byte) error {
	b, err := im.parser.ParseBundle(raw)
	if err != nil {
		im.reject(path, err)
		return nil
	}
	if b.Type != "transaction" && b.Type != "batch" {
		asBatch(b)
	}
	existing := func(typ, criteria string) (string, bool, error) { return im.store.FindConditional(ctx, typ, criteria) }
	plans, err := mapping.PlanBundleWith(b, uuid.NewString, existing)
	if b.Type == "transaction" {
		if err != nil {
			im.reject(path, err)
			return nil
		}
		var ws []workitem.ResourceWrite
		for _, p := range plans {
			if p.Write == nil {
				im.skipped++
				continue
			}
			ws = append(ws, *p.Write)
		}
		return im.write(ctx, path, ws)
	}
	if err != nil {
		im.reject(path, err)
		return nil
	}
	for _, p := range plans {
		where := fmt.Sprintf("%s: entry[%d]", path, p.Index)
		switch {
		case p.Err != nil:
			im.reject(where, p.Err)
		case p.Write == nil:
			im.skipped++
		default:
			if err := im.write(ctx, where, []workitem.ResourceWrite{*p.Write}); err != nil {
				return err
			}
		}
	}
	return nil
}

// asBatch turns a collection, searchset or other Bundle into a batch whose
// entries PUT resources with an id and POST the others.
func asBatch(b *fhir.Bundle) {
	b.Type = "batch"
	for i := range b.Entries {
		e := &b.Entries[i]
		e.IfNoneExist, e.IfMatch, e.IfNoneMatch = "", "", ""
		switch {
		case e.Resource == nil:
			e.Method, e.URL = "POST", ""
		case e.Resource.ID != "":
			e.Method, e.URL = "PUT", e.Resource.Type+"/"+e.Resource.ID
		default:
			e.Method, e.URL = "POST", e.Resource.Type
		}
	}
}

// write stores ws in one transaction; domain rejections (invalid, conflict,
// precondition) are tallied, other failures (the database) are returned.
func (im *importer) write(ctx context.Context, where string, ws []workitem.ResourceWrite) error {
	if len(ws) == 0 {
		return nil
	}
	if _, err := im.store.WriteResources(ctx, importActor, ws); err != nil {
		var de *workitem.Error
		if !errors.As(err, &de) || de.Kind == workitem.Internal {
			return fmt.Errorf("%s: %w", where, err)
		}
		im.reject(where, err)
		return nil
	}
	im.accepted += len(ws)
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
