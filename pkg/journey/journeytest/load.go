package journeytest

import (
	"context"
	"fmt"

	"github.com/touchtrail/touchtrail/pkg/store"
)

// Writer stores records: a store.Store, or a store.Writer's Submit wrapped.
type Writer interface {
	Write(ctx context.Context, recs []store.Record) (store.WriteResult, error)
}

// Load writes the visitors' touchpoints for site in groups of 1000 records.
func Load(ctx context.Context, w Writer, site string, visitors []Visitor) error {
	var recs []store.Record
	var slab []byte
	flush := func() error {
		if len(recs) == 0 {
			return nil
		}
		if _, err := w.Write(ctx, recs); err != nil {
			return fmt.Errorf("load %d records: %w", len(recs), err)
		}
		recs, slab = recs[:0], nil
		return nil
	}
	for i := range visitors {
		for j := range visitors[i].Trail {
			tp := visitors[i].Trail[j]
			tp.Site = site
			recs = append(recs, store.NewRecord(&tp, &slab))
			if len(recs) == 1000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}
