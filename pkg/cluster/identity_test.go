package cluster_test

import (
	"strconv"
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/touchtrail/touchtrail/pkg/cluster"
)

func TestUserPartitionIsStable(t *testing.T) {
	f := func(site, user string, n, want int) {
		t.Helper()
		if got := cluster.UserPartition(site, user, n); got != want {
			t.Errorf("UserPartition(%q, %q, %d) = %d, want %d (the mapping must never change: stored links depend on it)", site, user, n, got, want)
		}
		// The documented definition, computed independently.
		if def := int(xxhash.Sum64String(site+"\x00u"+user) % uint64(n)); def != want {
			t.Errorf("xxhash64(%q, 0x00, 'u', %q) mod %d = %d, want %d", site, user, n, def, want)
		}
	}
	f("demo", "user-1", 32, 23)
	f("demo", "user-2", 32, 1)
	f("shop", "user-1", 32, 12)
	f("demo", "alice@example.com", 8, 3)
	f("demo", "user-1", 1, 0)
}

func TestUserPartitionSpreadsUsers(t *testing.T) {
	const n, users = 16, 16000
	counts := make([]int, n)
	for i := range users {
		counts[cluster.UserPartition("demo", "user-"+strconv.Itoa(i), n)]++
	}
	for p, c := range counts {
		if c < users/n*8/10 || c > users/n*12/10 {
			t.Errorf("partition %d holds %d of %d users: want within 20%% of %d", p, c, users, users/n)
		}
	}
}
