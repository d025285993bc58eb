package collector

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Identity verification. A browser may send identify events, and without a
// check any browser could claim to be any user and be merged into that
// user's journey. A site with an identify secret accepts a browser's
// identify only with user_hash = hex(HMAC-SHA256(secret, user)), which the
// site's backend computes for its signed-in user (sdk.UserHash) and hands
// to the page, as help desks do for identity verification. Write-key
// holders (the backend itself) need no hash.

// UserHashField is the wire field of an identify event carrying the hash.
// It is checked and then dropped: it is never stored.
const UserHashField = "user_hash"

var (
	errNoUserHash  = &event.ValidationError{Field: UserHashField, Reason: "identify needs user_hash: hex HMAC-SHA256 of the user id under the site's identify secret, computed by the site's backend"}
	errBadUserHash = &event.ValidationError{Field: UserHashField, Reason: "does not match the user id: identity not verified"}
)

// checkIdentity verifies an untrusted identify event of site and drops
// any user_hash prop from tp.
func checkIdentity(tp *event.Touchpoint, site *Site, trusted bool) error {
	hash := ""
	if i := slices.IndexFunc(tp.Props, func(p event.Prop) bool { return p.Key == UserHashField }); i >= 0 {
		hash = tp.Props[i].Value
		tp.Props = slices.Delete(tp.Props, i, i+1)
	}
	if trusted || tp.Type != event.TypeIdentify || site.IdentifySecret == "" {
		return nil
	}
	if hash == "" {
		return errNoUserHash
	}
	got, err := hex.DecodeString(hash)
	if err != nil || len(got) != sha256.Size {
		return errBadUserHash
	}
	m := hmac.New(sha256.New, []byte(site.IdentifySecret))
	m.Write([]byte(tp.User))
	if !hmac.Equal(got, m.Sum(nil)) {
		return errBadUserHash
	}
	return nil
}
