package sdk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// UserHash returns the user_hash a browser's identify event needs when the
// site has an identify secret: hex(HMAC-SHA256(secret, user)). Compute it
// in the backend for the signed-in user and hand it to the page with the
// user id (the snippet sends it along); never send the secret to a
// browser. A site without an identify secret needs no hash, and events the
// backend sends itself with its write key need none either. Safe for
// concurrent use.
func UserHash(secret, user string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(user))
	return hex.EncodeToString(m.Sum(nil))
}
