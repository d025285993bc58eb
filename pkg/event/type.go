package event

import "fmt"

// Type is the kind of a touchpoint. The zero value is TypeUnknown, which
// never validates.
type Type uint8

// The touchpoint types of DESIGN.md. Their numeric values are stored: never
// renumber them, only append.
const (
	TypeUnknown Type = iota
	TypePageview
	TypeSearch
	TypeChatOpen
	TypeCheckoutStep
	TypeIdentify
	TypeFeedback
	TypeCustom
	TypeTicket     // a help-desk ticket opened, answered or solved (ticket.go)
	TypeEngagement // engaged time and scroll depth of a page view (engagement.go)
	typeCount
)

var typeNames = [typeCount]string{
	TypeUnknown:      "unknown",
	TypePageview:     "pageview",
	TypeSearch:       "search",
	TypeChatOpen:     "chat_open",
	TypeCheckoutStep: "checkout_step",
	TypeIdentify:     "identify",
	TypeFeedback:     "feedback",
	TypeCustom:       "custom",
	TypeTicket:       "ticket",
	TypeEngagement:   "engagement",
}

// Types lists every valid type, in numeric order.
var Types = []Type{TypePageview, TypeSearch, TypeChatOpen, TypeCheckoutStep, TypeIdentify, TypeFeedback, TypeCustom, TypeTicket, TypeEngagement}

// String returns the wire name of t ("pageview", "chat_open", …).
func (t Type) String() string {
	if t < typeCount && typeNames[t] != "" {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Valid reports whether t is one of the known types.
func (t Type) Valid() bool { return t > TypeUnknown && t < typeCount && typeNames[t] != "" }

// ParseType returns the type named s, or TypeUnknown.
func ParseType(s string) Type { return parseTypeBytes([]byte(s)) }

func parseTypeBytes(b []byte) Type {
	// A switch on string(b) does not allocate.
	switch string(b) {
	case "pageview":
		return TypePageview
	case "search":
		return TypeSearch
	case "chat_open":
		return TypeChatOpen
	case "checkout_step":
		return TypeCheckoutStep
	case "identify":
		return TypeIdentify
	case "feedback":
		return TypeFeedback
	case "custom":
		return TypeCustom
	case "ticket":
		return TypeTicket
	case "engagement":
		return TypeEngagement
	}
	return TypeUnknown
}

// DeviceClass is the kind of device a touchpoint came from.
type DeviceClass uint8

// Device classes. Stored numerically: only append.
const (
	DeviceUnknown DeviceClass = iota
	DeviceDesktop
	DeviceMobile
	DeviceTablet
	DeviceBot
	deviceCount
)

var deviceNames = [deviceCount]string{"", "desktop", "mobile", "tablet", "bot"}

// String returns "desktop", "mobile", "tablet", "bot" or "" when unknown.
func (d DeviceClass) String() string {
	if d < deviceCount {
		return deviceNames[d]
	}
	return ""
}

// ParseDeviceClass is the inverse of DeviceClass.String.
func ParseDeviceClass(s string) DeviceClass {
	for i, n := range deviceNames {
		if n == s && s != "" {
			return DeviceClass(i)
		}
	}
	return DeviceUnknown
}

// Channel is the marketing channel a visit came through, derived from the
// referrer and the UTM parameters.
type Channel uint8

// Channels. Stored numerically: only append.
const (
	ChannelUnknown Channel = iota
	ChannelDirect
	ChannelSearch
	ChannelSocial
	ChannelEmail
	ChannelPaid
	ChannelReferral
	ChannelInternal
	channelCount
)

var channelNames = [channelCount]string{"", "direct", "search", "social", "email", "paid", "referral", "internal"}

// String returns the channel's name, or "" when unknown.
func (c Channel) String() string {
	if c < channelCount {
		return channelNames[c]
	}
	return ""
}

// ParseChannel is the inverse of Channel.String.
func ParseChannel(s string) Channel {
	for i, n := range channelNames {
		if n == s && s != "" {
			return Channel(i)
		}
	}
	return ChannelUnknown
}
