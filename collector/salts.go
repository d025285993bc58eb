package collector

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// SaltKeeper persists the daily salts of cookieless mode, so a restart does
// not split the day's visitors, and deletes the old ones. The Badger store
// implements it.
type SaltKeeper interface {
	// DailySalt returns the salt of day (days since the Unix epoch, UTC),
	// storing fresh if the day has none yet, and deletes older salts.
	DailySalt(day int64, fresh []byte) ([]byte, error)
}

// Salts derives cookieless visitor ids: the first 16 bytes of
// SHA-256(daily salt, site, IP, user agent). The salt is random, changes at
// UTC midnight and is then forgotten, so ids cannot be linked across days
// nor traced back to an IP. Safe for concurrent use.
type Salts struct {
	keeper SaltKeeper // nil: salts live in memory only

	mu   sync.Mutex
	day  int64
	salt []byte
}

// NewSalts returns a Salts persisting through keeper (nil: memory only).
func NewSalts(keeper SaltKeeper) *Salts { return &Salts{keeper: keeper, day: -1} }

func (s *Salts) current(day int64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if day == s.day {
		return s.salt, nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("cannot make a salt: %w", err)
	}
	salt := fresh
	if s.keeper != nil {
		var err error
		if salt, err = s.keeper.DailySalt(day, fresh); err != nil {
			return nil, fmt.Errorf("cannot load the salt of day %d: %w", day, err)
		}
	}
	s.day, s.salt = day, salt
	return salt, nil
}

// Visitor returns the cookieless visitor id of a client on the day of now.
func (s *Salts) Visitor(now time.Time, site string, ip netip.Addr, ua string) (event.VisitorID, error) {
	salt, err := s.current(now.Unix() / 86400)
	if err != nil {
		return event.VisitorID{}, err
	}
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(site))
	h.Write([]byte{0})
	a16 := ip.As16()
	h.Write(a16[:])
	h.Write([]byte(ua))
	var sum [sha256.Size]byte
	var v event.VisitorID
	copy(v[:], h.Sum(sum[:0]))
	return v, nil
}
