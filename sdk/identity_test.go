package sdk_test

import (
	"fmt"
	"testing"

	"github.com/touchtrail/touchtrail/sdk"
)

// UserHash is HMAC-SHA256 in hex: RFC 4231's test case 2.
func TestUserHashKnownAnswer(t *testing.T) {
	got := sdk.UserHash("Jefe", "what do ya want for nothing?")
	if want := "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"; got != want {
		t.Errorf("UserHash = %s, want %s", got, want)
	}
	if sdk.UserHash("secret-one-0123456789", "u-1") == sdk.UserHash("secret-two-0123456789", "u-1") {
		t.Error("two secrets give the same hash")
	}
}

// A backend renders the signed-in user's id and its hash into the page;
// the snippet sends both with its identify event.
func ExampleUserHash() {
	const identifySecret = "identify-secret-0123456789" // from the site's config, never sent to browsers
	user := "u-42"
	fmt.Printf("touchtrail('identify', %q, {user_hash: %q})\n", user, sdk.UserHash(identifySecret, user))
	// Output: touchtrail('identify', "u-42", {user_hash: "38a7c51820dcc2cc3ea98735c43f26fc428d01b3fb080b3a979a9fe9baa60c7f"})
}
