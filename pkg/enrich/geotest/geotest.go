// Package geotest writes real GeoIP2-City-shaped MaxMind databases for
// tests, with github.com/maxmind/mmdbwriter, so that geo assertions are
// exact without shipping MaxMind's data (whose licence forbids committing
// it).
//
// # Usage
//
//	path := geotest.CityDB(t) // the Fixture networks, in t.TempDir()
//	en, err := enrich.New(enrich.Config{GeoDB: path}, nil)
//	// 81.2.69.160 → GB, ENG, London
//
// or, with networks of your own:
//
//	path := filepath.Join(t.TempDir(), "city.mmdb")
//	geotest.WriteCityDB(t, path, map[string]geotest.City{
//		"203.0.113.0/24": {Country: "FR", Region: "IDF", City: "Paris"},
//		"198.51.100.0/24": {Country: "NZ"}, // a country-only record
//	})
package geotest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// City is what a network resolves to. Empty fields are left out of the
// record, as in MaxMind's own data (a country-only network has no city).
type City struct {
	Country string // ISO 3166-1 alpha-2, e.g. "GB"
	Region  string // ISO code of the first subdivision, e.g. "ENG"
	City    string // English name, e.g. "London"
}

// Fixture returns the networks CityDB writes (a new map on each call):
// IPv4 and IPv6, public and reserved.
//
//	81.2.69.0/24     GB ENG London       (as in MaxMind's own test data)
//	89.160.20.0/24   SE E   Linköping
//	216.160.83.0/24  US WA  Milton
//	203.0.113.0/24   FR IDF Paris        (TEST-NET-3)
//	198.51.100.0/24  NZ                  (TEST-NET-2, country only)
//	10.0.0.0/8       DE BE  Berlin       (private)
//	2001:db8::/32    JP 13  Tokyo        (documentation)
//	2a02:ec80::/32   NL NH  Amsterdam
func Fixture() map[string]City {
	return map[string]City{
		"81.2.69.0/24":    {Country: "GB", Region: "ENG", City: "London"},
		"89.160.20.0/24":  {Country: "SE", Region: "E", City: "Linköping"},
		"216.160.83.0/24": {Country: "US", Region: "WA", City: "Milton"},
		"203.0.113.0/24":  {Country: "FR", Region: "IDF", City: "Paris"},
		"198.51.100.0/24": {Country: "NZ"},
		"10.0.0.0/8":      {Country: "DE", Region: "BE", City: "Berlin"},
		"2001:db8::/32":   {Country: "JP", Region: "13", City: "Tokyo"},
		"2a02:ec80::/32":  {Country: "NL", Region: "NH", City: "Amsterdam"},
	}
}

// CityDB writes the Fixture networks to city.mmdb in a new tb.TempDir() and
// returns its path.
func CityDB(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "city.mmdb")
	WriteCityDB(tb, path, Fixture())
	return path
}

// WriteCityDB writes a GeoIP2-City-shaped database at path in which each
// network (a CIDR, IPv4 or IPv6, reserved ranges allowed) resolves to its
// City: country.iso_code, subdivisions[0].iso_code, city.names.en (and
// country.names.en, the ISO code again). Addresses outside the networks
// are not found. It fails tb on any error.
func WriteCityDB(tb testing.TB, path string, nets map[string]City) {
	tb.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "GeoIP2-City",
		Description:             map[string]string{"en": "touchtrail test database"},
		Languages:               []string{"en"},
		IncludeReservedNetworks: true,
		RecordSize:              28,
	})
	if err != nil {
		tb.Fatalf("geotest: %v", err)
	}
	for cidr, c := range nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			tb.Fatalf("geotest: network %q: %v", cidr, err)
		}
		if err := tree.Insert(n, record(c)); err != nil {
			tb.Fatalf("geotest: insert %s: %v", cidr, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatalf("geotest: %v", err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		tb.Fatalf("geotest: write %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		tb.Fatalf("geotest: write %s: %v", path, err)
	}
}

func record(c City) mmdbtype.Map {
	rec := mmdbtype.Map{}
	if c.Country != "" {
		rec["country"] = mmdbtype.Map{
			"iso_code": mmdbtype.String(c.Country),
			"names":    mmdbtype.Map{"en": mmdbtype.String(c.Country)},
		}
	}
	if c.Region != "" {
		rec["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String(c.Region)}}
	}
	if c.City != "" {
		rec["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(c.City)}}
	}
	return rec
}
