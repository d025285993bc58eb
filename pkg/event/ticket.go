package event

// TicketStatus is the state a ticket touchpoint records.
type TicketStatus uint8

// Ticket statuses. Stored numerically: only append.
const (
	TicketStatusUnknown TicketStatus = iota
	TicketOpened                     // the customer asked: a new ticket
	TicketReplied                    // an agent or the customer answered
	TicketSolved                     // solved or closed
	ticketStatusCount
)

var ticketStatusNames = [ticketStatusCount]string{"", "opened", "replied", "solved"}

// String returns "opened", "replied", "solved", or "" when unknown.
func (s TicketStatus) String() string {
	if s < ticketStatusCount {
		return ticketStatusNames[s]
	}
	return ""
}

// Valid reports whether s is a known status.
func (s TicketStatus) Valid() bool { return s > TicketStatusUnknown && s < ticketStatusCount }

// ParseTicketStatus is the inverse of TicketStatus.String; it returns
// TicketStatusUnknown for anything else.
func ParseTicketStatus(s string) TicketStatus { return parseTicketStatusBytes([]byte(s)) }

func parseTicketStatusBytes(b []byte) TicketStatus {
	switch string(b) {
	case "opened":
		return TicketOpened
	case "replied":
		return TicketReplied
	case "solved":
		return TicketSolved
	}
	return TicketStatusUnknown
}

// TicketChannel is how a ticket reached the help desk.
type TicketChannel uint8

// Ticket channels. Stored numerically: only append.
const (
	TicketChannelUnknown TicketChannel = iota
	TicketEmail
	TicketChat
	TicketPhone
	TicketForm // a web form or help-centre widget
	TicketSocial
	TicketAPI
	TicketOther
	ticketChannelCount
)

var ticketChannelNames = [ticketChannelCount]string{"", "email", "chat", "phone", "form", "social", "api", "other"}

// String returns the channel's name ("email", "chat", "phone", "form",
// "social", "api", "other"), or "" when unknown.
func (c TicketChannel) String() string {
	if c < ticketChannelCount {
		return ticketChannelNames[c]
	}
	return ""
}

// ParseTicketChannel is the inverse of TicketChannel.String; it returns
// TicketChannelUnknown for anything else.
func ParseTicketChannel(s string) TicketChannel { return parseTicketChannelBytes([]byte(s)) }

func parseTicketChannelBytes(b []byte) TicketChannel {
	for i, n := range ticketChannelNames {
		if i > 0 && n == string(b) {
			return TicketChannel(i)
		}
	}
	return TicketChannelUnknown
}

// Bounds of a ticket's free-text fields, in bytes.
const (
	MaxTicketID       = 128
	MaxTicketCategory = 64
	MaxTicketSubject  = 256
)
