package enrich

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/oschwald/maxminddb-golang/v2"
)

// place is what we keep of a geo record.
type place struct {
	country, region, city string
}

// geoRecord decodes only the fields we keep from a City or Country record
// (a full geoip2 City decode costs several times more).
type geoRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"subdivisions"`
	City struct {
		Names struct {
			EN string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"city"`
}

type geoDB struct {
	r      *maxminddb.Reader
	dbType string
	cache  *lru.Cache[netip.Addr, place]

	hits, misses, errs atomic.Uint64
}

// openGeo opens path; an empty path or a missing file gives nil, nil.
func openGeo(path string, cacheSize int) (*geoDB, error) {
	if path == "" {
		return nil, nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open geo database %q: %w", path, err)
	}
	c, err := lru.New[netip.Addr, place](cacheSize)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("geo cache: %w", err)
	}
	return &geoDB{r: r, dbType: r.Metadata.DatabaseType, cache: c}, nil
}

func (g *geoDB) lookup(ip netip.Addr) place {
	if p, ok := g.cache.Get(ip); ok {
		g.hits.Add(1)
		return p
	}
	g.misses.Add(1)
	var rec geoRecord
	var p place
	if err := g.r.Lookup(ip).Decode(&rec); err != nil {
		g.errs.Add(1)
	} else {
		p.country, p.city = rec.Country.ISOCode, rec.City.Names.EN
		if len(rec.Subdivisions) > 0 {
			p.region = rec.Subdivisions[0].ISOCode
		}
	}
	g.cache.Add(ip, p)
	return p
}

func (g *geoDB) close() error {
	if err := g.r.Close(); err != nil {
		return fmt.Errorf("close geo database: %w", err)
	}
	return nil
}
