package journeytest

import (
	"strconv"

	"github.com/touchtrail/touchtrail/pkg/event"
)

// Tickets splits the planted touchpoints: the visitors without their
// tickets (for Load), and the tickets, which a help desk would deliver
// through a webhook (HookDelivery).
func Tickets(visitors []Visitor) (rest []Visitor, tickets []event.Touchpoint) {
	rest = make([]Visitor, len(visitors))
	for i, v := range visitors {
		rest[i] = v
		rest[i].Trail = nil
		for _, tp := range v.Trail {
			if tp.Type == event.TypeTicket {
				tickets = append(tickets, tp)
			} else {
				rest[i].Trail = append(rest[i].Trail, tp)
			}
		}
	}
	return rest, tickets
}

// HookDelivery is a ticket as a webhook delivery in the generic mapping's
// shape: ticket, status, ticket_channel, visitor, ts (Unix ms), subject,
// and score (of 5) when rated.
func HookDelivery(tp *event.Touchpoint) []byte {
	b := []byte(`{"ticket":`)
	b = event.AppendJSONString(b, tp.Ticket)
	b = append(b, `,"status":"`...)
	b = append(b, tp.Status.String()...)
	b = append(b, `","ticket_channel":"`...)
	b = append(b, tp.TicketChannel.String()...)
	b = append(b, `","visitor":"`...)
	b = tp.Visitor.AppendHex(b)
	b = append(b, `","ts":`...)
	b = strconv.AppendInt(b, tp.Derived/1000, 10)
	b = append(b, `,"subject":`...)
	b = event.AppendJSONString(b, tp.Subject)
	if tp.Scale > 0 {
		b = append(b, `,"score":`...)
		b = strconv.AppendInt(b, int64(tp.Score), 10)
	}
	return append(b, '}')
}
