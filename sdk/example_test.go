package sdk_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/touchtrail/touchtrail/sdk"
)

// The README's example: a backend records the order placed into the trail of
// the browser visitor who placed it.
func Example() {
	client, err := sdk.New(sdk.Config{
		Endpoint: "http://127.0.0.1:8080",
		Site:     "demo",
		WriteKey: os.Getenv("TOUCHTRAIL_WRITE_KEY"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		client.Close(ctx) // sends what is queued
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		// … place the order …
		client.CheckoutStep(sdk.VisitorID(r), sdk.Step{Step: 3, Name: "order placed", Value: 99.5, Currency: "EUR"})
		http.Redirect(w, r, "/thanks", http.StatusSeeOther)
	})
	// Page views of server-rendered HTML pages, in the same trails.
	handler := sdk.Middleware(client, mux)
	_ = handler // http.ListenAndServe(":8000", handler)
}

func ExampleClient_Track() {
	client, err := sdk.New(sdk.Config{Endpoint: "http://127.0.0.1:8080", Site: "demo", WriteKey: "ttw_0123456789abcdef"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		client.Close(ctx) // nothing listens in this example: gives up after 100ms
	}()
	visitor := "0123456789abcdef0123456789abcdef"
	if err := client.Search(visitor, "return policy", 0); err != nil {
		fmt.Println(err) // only ErrQueueFull, ErrClosed or a bad visitor id
	}
	fmt.Println(client.Stats().Dropped)
	// Output: 0
}

func ExampleVisitorID() {
	r, _ := http.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: sdk.CookieName, Value: "0123456789ABCDEF0123456789ABCDEF"})
	fmt.Println(sdk.VisitorID(r))
	// Output: 0123456789abcdef0123456789abcdef
}
