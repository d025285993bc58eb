package collector

import (
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// goneEvery is how often a running query checks that its client is there.
const goneEvery = 100 * time.Millisecond

// watchGone calls gone once when the client of ctx closes its connection
// while the handler runs, until stop is called. fasthttp reads nothing
// while a handler runs and tells nothing of a closed connection, so the
// socket is peeked (MSG_PEEK: a pipelined request stays where it is): a
// read of 0 bytes is the client's FIN, an error a reset.
func watchGone(ctx *fasthttp.RequestCtx, gone func()) (stop func()) {
	c := ctx.Conn()
	for {
		w, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = w.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return func() {}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(goneEvery)
		defer t.Stop()
		var buf [1]byte
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			closed := false
			err := rc.Read(func(fd uintptr) bool {
				n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
				closed = n == 0 && err == nil || err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR)
				return true
			})
			if err != nil || closed {
				gone()
				return
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}
