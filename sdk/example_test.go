package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"strings"
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
	if err := client.Search(visitor, "return policy", sdk.NoResults); err != nil { // a friction signal
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

// Server-rendered pages without the snippet: page views from the
// middleware, with the client IP from a trusted proxy's header and a
// session id for visitors without the snippet's cookie.
func ExampleMiddleware() {
	client, err := sdk.New(sdk.Config{
		Endpoint: "http://127.0.0.1:8080",
		Site:     "demo",
		WriteKey: os.Getenv("TOUCHTRAIL_WRITE_KEY"),
		Logger:   slog.Default(), // retries and a full queue are logged
	})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(context.Background())

	mux := http.NewServeMux() // your application
	handler := sdk.Middleware(client, mux, sdk.MiddlewareOptions{
		ClientIPHeader: "X-Forwarded-For",
		Skip:           func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/admin/") },
		Visitor: func(r *http.Request) string {
			if c, err := r.Cookie("session"); err == nil {
				return c.Value // hashed into a visitor id
			}
			return ""
		},
	})
	_ = handler // http.ListenAndServe(":8000", handler)
}

// Shutting down: Close sends what is queued within the deadline and says
// how many events were lost.
func ExampleClient_Close() {
	client, err := sdk.New(sdk.Config{
		Endpoint: "http://127.0.0.1:8080",
		Site:     "demo",
		WriteKey: os.Getenv("TOUCHTRAIL_WRITE_KEY"),
		OnError:  func(err error) { log.Print(err) }, // every batch given up or refused
	})
	if err != nil {
		log.Fatal(err)
	}
	// … serve …
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Close(ctx); errors.Is(err, sdk.ErrUndelivered) {
		log.Print(err) // e.g. "sdk: 37 events not delivered: context deadline exceeded"
	}
	st := client.Stats()
	log.Printf("sent %d, dropped %d, failed %d", st.Sent, st.Dropped, st.Failed)
}
