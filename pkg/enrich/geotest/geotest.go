// Package geotest builds real GeoIP2 City databases for tests with
// github.com/maxmind/mmdbwriter, so geo assertions are exact without
// shipping MaxMind's data.
package geotest

import (
	"net"
	"os"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// City is what a network resolves to.
type City struct {
	Country string // ISO 3166-1 alpha-2, e.g. "GB"
	Region  string // first subdivision's ISO code, e.g. "ENG"
	City    string // English name
}

// WriteCityDB writes a GeoIP2-City-shaped database at path in which each
// network (CIDR, IPv4 or IPv6, reserved ranges allowed) resolves to its City.
func WriteCityDB(tb testing.TB, path string, nets map[string]City) {
	tb.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "GeoIP2-City",
		Description:             map[string]string{"en": "touchtrail test database"},
		IncludeReservedNetworks: true,
		RecordSize:              28,
	})
	if err != nil {
		tb.Fatalf("mmdbwriter: %v", err)
	}
	for cidr, c := range nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			tb.Fatalf("network %q: %v", cidr, err)
		}
		rec := mmdbtype.Map{
			"country": mmdbtype.Map{
				"iso_code": mmdbtype.String(c.Country),
				"names":    mmdbtype.Map{"en": mmdbtype.String(c.Country)},
			},
			"city": mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(c.City)}},
			"subdivisions": mmdbtype.Slice{mmdbtype.Map{
				"iso_code": mmdbtype.String(c.Region),
			}},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(51.5), "longitude": mmdbtype.Float64(-0.1)},
		}
		if err := tree.Insert(n, rec); err != nil {
			tb.Fatalf("insert %s: %v", cidr, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		tb.Fatalf("write %s: %v", path, err)
	}
}
