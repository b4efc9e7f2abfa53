package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/mapping/codes"
)

// loadAddendaCmd is `codes load --system icd10cm --version 2027 --addenda
// FILE`: it derives the ICD-10-CM release rel from the stored release of
// the previous fiscal year and the CMS order-file addenda at path
// (codes.DeriveOrder, checked against the addenda's footer) and stores it
// through LoadRelease as the order file the derivation gives, so the
// digest, idempotency and overlap checks of any load apply. Every refusal
// comes before anything is written.
func loadAddendaCmd(ctx context.Context, getenv func(string) string, g *globalFlags, rel codes.Release, path string,
	args []string, stdout, stderr io.Writer) error {
	if len(args) != 0 {
		return fmt.Errorf("codes load --addenda: takes no FILE argument (the release is derived from the addenda and the loaded %s of the year before), got %q",
			rel.System, args[0])
	}
	if rel.System != codes.ICD10CM {
		return fmt.Errorf("--addenda: only an ICD-10-CM release can be derived from its order-file addenda; the %s addenda (such as the ICD-10-PCS order_addenda_YYYY.txt) carry no header/billable flag, so load the %s %s order file itself (codes load --system %s --version %s FILE)",
			rel.System, rel.System, rel.Version, rel.System, rel.Version)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	a, err := codes.ReadOrderAddenda(f)
	f.Close()
	if err == nil {
		err = a.CheckTarget(rel)
	}
	if err != nil {
		return fmt.Errorf("%s not applied as %s %s; nothing changed: %w", filepath.Base(path), rel.System, rel.Version, err)
	}
	return withCodeStore(ctx, getenv, g, func(s *postgres.CodeStore) error {
		return deriveAndLoad(ctx, s, rel, a, filepath.Base(path), stdout, stderr)
	})
}

// deriveAndLoad applies a to the stored release of the fiscal year before
// rel and loads the result as rel.
func deriveAndLoad(ctx context.Context, s *postgres.CodeStore, rel codes.Release, a *codes.OrderAddenda, name string, stdout, stderr io.Writer) error {
	start := time.Now()
	refused := func(err error) error {
		return fmt.Errorf("%s not applied as %s %s; nothing changed: %w", name, rel.System, rel.Version, err)
	}
	baseRel, err := codes.NewRelease(rel.System, fmt.Sprint(rel.To.Year()-1))
	if err != nil {
		return refused(err)
	}
	rels, err := s.ListReleases(ctx)
	if err != nil {
		return refused(err)
	}
	source := ""
	found := false
	for _, r := range rels {
		if r.System == baseRel.System && r.Version == baseRel.Version {
			found, source = true, r.Source
		}
	}
	base, err := s.OrderRecords(ctx, baseRel)
	if !found || errors.Is(err, postgres.ErrReleaseNotLoaded) {
		return refused(fmt.Errorf("no %s %s release is loaded to derive %s from: load %s %s first (%s)",
			baseRel.System, baseRel.Version, rel.Version, baseRel.System, baseRel.Version, howToLoad(baseRel)))
	}
	if err != nil {
		return refused(err)
	}
	recs, err := codes.DeriveOrder(a, baseRel, base, rel)
	if err != nil {
		return refused(err)
	}
	var buf bytes.Buffer
	if err := codes.WriteOrder(&buf, recs); err != nil {
		return refused(err)
	}
	if source == "" {
		source = string(baseRel.System) + " " + baseRel.Version
	}
	progress, done := loadProgress(stderr, rel, name+" applied to "+source)
	res, err := s.LoadRelease(ctx, rel, namedBytes{bytes.NewReader(buf.Bytes()), name + " applied to " + source}, progress)
	done()
	if err != nil {
		return refused(err)
	}
	if res.Unchanged {
		fmt.Fprintf(stdout, "%s already loaded from identical content (%d records); nothing changed\n", rel, res.Rows)
		return nil
	}
	billable := 0
	for _, r := range recs {
		if r.Billable {
			billable++
		}
	}
	fmt.Fprintf(stdout, "loaded %s: %d records (%d billable) derived from %s %s with %s in %s\n", rel, res.Rows, billable,
		baseRel.System, baseRel.Version, name, time.Since(start).Round(time.Millisecond))
	return nil
}

// howToLoad says how to load the ICD-10-CM release rel: `codes
// load-bundled` only when codebridge bundles it (codes.Bundled), else a
// fetch of its fiscal year or a load of its order file.
func howToLoad(rel codes.Release) string {
	file := fmt.Sprintf("codebridge codes load --system %s --version %s icd10cm_order_%d.txt", rel.System, rel.Version, rel.To.Year())
	for _, b := range codes.Bundled() {
		if b.Release.System == rel.System && b.Release.Version == rel.Version {
			return "codebridge codes load-bundled, or " + file
		}
	}
	return fmt.Sprintf("it is not bundled in codebridge: codebridge codes fetch --fy %d --system %s, or %s", rel.To.Year(), rel.System, file)
}

// namedBytes gives derived content a source name for LoadRelease.
type namedBytes struct {
	*bytes.Reader
	name string
}

func (n namedBytes) Name() string { return n.name }

// billableColumn is the BILLABLE column of codes list: "-" for the tables
// that hold no billable flags (edit tables, lists, the Tabular List's
// instructions).
func billableColumn(r postgres.ReleaseInfo) string {
	switch r.System {
	case codes.MUETable, codes.PTPTable, codes.POAExemptList, codes.ICD10CMTabular, codes.MCE:
		return "-"
	}
	return fmt.Sprint(r.Billable)
}
