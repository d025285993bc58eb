package enrich

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"sync/atomic"

	"github.com/oschwald/geoip2-golang/v2"
)

// place is what we keep of an address: its place from the geo database and,
// when configured, its truncated network as a string.
type place struct {
	country, region, city string
	prefix                string
}

// openGeoDB opens the database at path; an empty path or a missing file
// gives nil and no error, anything else that cannot be read an error.
func openGeoDB(path string) (*geoip2.Reader, error) {
	if path == "" {
		return nil, nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	// geoip2.Open refuses databases that are not City or Country ones
	// (ASN, ISP, …), whose records hold no place.
	r, err := geoip2.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open geo database %q: %w", path, err)
	}
	if md := r.Metadata(); md.IPVersion != 4 && md.IPVersion != 6 || md.NodeCount == 0 {
		r.Close()
		return nil, fmt.Errorf("cannot open geo database %q: not an IP database (ip_version %d, %d nodes)",
			path, md.IPVersion, md.NodeCount)
	}
	// A cheap check that the search tree and the data section can be
	// read (a full verification would take seconds on GeoLite2).
	if _, err := r.City(netip.AddrFrom4([4]byte{81, 2, 69, 160})); err != nil {
		r.Close()
		return nil, fmt.Errorf("cannot read geo database %q: %w", path, err)
	}
	return r, nil
}

// places caches the place of client addresses in a bounded LRU (sharded by
// the address's hash): the same addresses send many events. Safe for concurrent use.
type places struct {
	db     *geoip2.Reader // nil: no geo fields
	prefix bool           // keep the truncated network
	c      *shardedLRU[netip.Addr, place]
	log    *slog.Logger

	hits, misses, failed atomic.Uint64
}

func newPlaces(db *geoip2.Reader, prefix bool, size int, log *slog.Logger) *places {
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
		rec, err := p.db.City(ip)
		if err != nil {
			if p.failed.Add(1) == 1 {
				p.log.Warn("geo lookup failed; further failures are only counted", "err", err)
			}
		} else if rec.HasData() {
			pl.country, pl.city = rec.Country.ISOCode, rec.City.Names.English
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
