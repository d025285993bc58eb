package geotest_test

import (
	"net/netip"
	"testing"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/touchtrail/touchtrail/pkg/enrich/geotest"
)

// The database is City-shaped, and empty fields are left out.
func TestCityDB(t *testing.T) {
	r, err := maxminddb.Open(geotest.CityDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Metadata.DatabaseType != "GeoIP2-City" {
		t.Errorf("database type %q", r.Metadata.DatabaseType)
	}
	for cidr, want := range geotest.Fixture() {
		var rec map[string]any
		ip := netip.MustParsePrefix(cidr).Addr().Next()
		if err := r.Lookup(ip).Decode(&rec); err != nil {
			t.Fatal(err)
		}
		var got geotest.City
		if c, ok := rec["country"].(map[string]any); ok {
			got.Country, _ = c["iso_code"].(string)
		}
		if s, ok := rec["subdivisions"].([]any); ok && len(s) > 0 {
			got.Region, _ = s[0].(map[string]any)["iso_code"].(string)
		}
		if c, ok := rec["city"].(map[string]any); ok {
			got.City, _ = c["names"].(map[string]any)["en"].(string)
		}
		if got != want {
			t.Errorf("%s (%s): %+v, want %+v", cidr, ip, got, want)
		}
		if want.City == "" {
			if _, ok := rec["city"]; ok {
				t.Errorf("%s: a city record without a city name", cidr)
			}
		}
	}
}
