package enrich

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"sync/atomic"

	"github.com/oschwald/maxminddb-golang/v2"
)

// place is what we keep of an address: its place from the geo database and,
// when configured, its truncated network as a string.
type place struct {
	country, region, city string
	prefix                string
}

// geoRecord decodes only the fields we keep from a GeoIP2/GeoLite2 City or
// Country record; a full geoip2 City decode costs several times more.
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

// openGeoDB opens the database at path; an empty path or a missing file
// gives nil and no error, anything else that cannot be read an error.
func openGeoDB(path string) (*maxminddb.Reader, error) {
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
	if r.Metadata.IPVersion != 4 && r.Metadata.IPVersion != 6 || r.Metadata.NodeCount == 0 {
		r.Close()
		return nil, fmt.Errorf("cannot open geo database %q: not an IP database (ip_version %d, %d nodes)",
			path, r.Metadata.IPVersion, r.Metadata.NodeCount)
	}
	// A cheap check that the search tree and the data section can be
	// read (r.Verify would be thorough, but takes seconds on GeoLite2).
	var rec geoRecord
	if err := r.Lookup(netip.AddrFrom4([4]byte{81, 2, 69, 160})).Decode(&rec); err != nil {
		r.Close()
		return nil, fmt.Errorf("cannot read geo database %q: %w", path, err)
	}
	return r, nil
}

// places caches the place of client addresses in a bounded LRU (sharded by
// the address's hash): the same addresses send many events. Safe for concurrent use.
type places struct {
	db     *maxminddb.Reader // nil: no geo fields
	prefix bool              // keep the truncated network
	c      *shardedLRU[netip.Addr, place]
	log    *slog.Logger

	hits, misses, failed atomic.Uint64
}

func newPlaces(db *maxminddb.Reader, prefix bool, size int, log *slog.Logger) *places {
	return &places{db: db, prefix: prefix, c: newShardedLRU[netip.Addr, place](size, hashAddr), log: log}
}

// lookup returns the place of ip, which must be valid, unmapped and without
// zone. A hit does not allocate; the strings returned are kept by the cache
// and stay valid for ever.
func (p *places) lookup(ip netip.Addr) place {
	if pl, ok := p.c.Get(ip); ok {
		p.hits.Add(1)
		return pl
	}
	p.misses.Add(1)
	var pl place
	if p.db != nil {
		var rec geoRecord
		if err := p.db.Lookup(ip).Decode(&rec); err != nil {
			if p.failed.Add(1) == 1 {
				p.log.Warn("geo lookup failed; further failures are only counted", "err", err)
			}
		} else {
			pl.country, pl.city = rec.Country.ISOCode, rec.City.Names.EN
			if len(rec.Subdivisions) > 0 {
				pl.region = rec.Subdivisions[0].ISOCode
			}
		}
	}
	if p.prefix {
		pl.prefix = Anonymize(ip).String()
	}
	p.c.Add(ip, pl)
	return pl
}

func (p *places) close() error {
	if p == nil || p.db == nil {
		return nil
	}
	if err := p.db.Close(); err != nil {
		return fmt.Errorf("cannot close geo database: %w", err)
	}
	return nil
}
