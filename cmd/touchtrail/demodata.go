package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/touchtrail/touchtrail/pkg/journey/journeytest"
	"github.com/touchtrail/touchtrail/pkg/store"
)

// demoVisitors is the size of the -demo-data set.
const demoVisitors = 2000

// loadDemoData fills the demo site with the synthetic shop of journeytest:
// 2,000 visitors active over the last seven days. Loading twice is
// harmless: the ids are the same, and stored once.
func loadDemoData(ctx context.Context, st store.Store, site string, log *slog.Logger) error {
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -7)
	visitors, truth := journeytest.Generate(1, demoVisitors, journeytest.Options{Site: site, Start: start, Days: 7})
	if err := journeytest.Load(ctx, st, site, visitors); err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	log.Info("demo data loaded", "visitors", truth.Visitors, "touchpoints", truth.Touchpoints,
		"from", start.Format(time.DateOnly), "example_visitor", visitors[0].ID.String())
	return nil
}
