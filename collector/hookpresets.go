package collector

// A preset is what one help desk sends and how it proves it: the mapping of
// its payloads and the way its deliveries are authenticated.
type preset struct {
	auth    string // hookAuth*
	mapping Mapping
}

// Hook authentication schemes.
const (
	// HookAuthToken: the secret itself, in "Authorization: Bearer …", in
	// HTTP Basic auth (as user name or password: help desks that offer
	// "username and password" or "API key" authentication), in an
	// X-Touchtrail-Token header or in a token query parameter.
	HookAuthToken = "token"
	// HookAuthHMAC: hex or base64 HMAC-SHA256 of the body with the secret
	// (an optional "sha256=" prefix), in the hook's signature header
	// (default X-Signature).
	HookAuthHMAC = "hmac"
	// HookAuthZendesk: Zendesk's signed webhooks: base64 HMAC-SHA256 of the
	// X-Zendesk-Webhook-Signature-Timestamp header's value followed by the
	// body, in X-Zendesk-Webhook-Signature.
	HookAuthZendesk = "zendesk"
)

// ticketStatusWords are the status words most help desks use, mapped to
// ours; presets add their own.
var ticketStatusWords = map[string]string{
	"new": "opened", "created": "opened", "open": "opened", "opened": "opened",
	"pending": "replied", "answered": "replied", "replied": "replied", "hold": "replied", "on-hold": "replied",
	"solved": "solved", "resolved": "solved", "closed": "solved",
}

var ticketChannelWords = map[string]string{
	"email": "email", "mail": "email", "e-mail": "email",
	"chat": "chat", "messaging": "chat", "native_messaging": "chat", "live chat": "chat",
	"phone": "phone", "voice": "phone", "call": "phone",
	"web": "form", "web form": "form", "web_form": "form", "web_widget": "form", "web widget": "form",
	"help_center": "form", "form": "form", "portal": "form", "contact form": "form",
	"twitter": "social", "facebook": "social", "instagram": "social", "whatsapp": "social", "social": "social",
	"api": "api", "web_service": "api", "web service": "api",
}

func with(base map[string]string, extra map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(extra))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// Presets, by name. Each reads the payloads its help desk documents, and
// the body template that the README gives for it (where the help desk lets
// the site write the body with its placeholders). testdata/hooks holds a
// sample delivery of each.
var presets = map[string]preset{
	// Zendesk: webhooks signed with HMAC-SHA256. Two kinds of payload:
	// event subscriptions (Zendesk events such as
	// zen:event-type:ticket.created, with the ticket in "detail" and the
	// change in "event") and trigger or automation webhooks, whose JSON
	// body the site writes with placeholders (the README's template puts
	// the ticket under "ticket"). Event payloads carry no custom fields:
	// there the visitor comes from the ticket's external_id.
	"zendesk": {
		auth: HookAuthZendesk,
		mapping: Mapping{
			Ticket: Paths{"detail.id", "ticket.id"},
			// The event's type says "created" or "comment added"; a status
			// change says its new status.
			Status: Paths{"type", "event.current", "ticket.event", "ticket.status", "detail.status"},
			StatusValues: with(ticketStatusWords, map[string]string{
				"zen:event-type:ticket.created":       "opened",
				"zen:event-type:ticket.comment_added": "replied",
			}),
			Channel:       Paths{"detail.via.channel", "ticket.via"},
			ChannelValues: ticketChannelWords,
			Visitor:       Paths{"ticket.tt_v", "detail.external_id"},
			User:          Paths{"ticket.user", "ticket.requester_external_id"},
			Time:          Paths{"time", "ticket.updated_at"},
			Delivery:      Paths{"id"},
			Subject:       Paths{"detail.subject", "ticket.subject"},
			Category:      Paths{"detail.type", "ticket.type"},
			Score:         Paths{"ticket.satisfaction"},
		},
	},
	// Freshdesk: automation rules with a "Trigger webhook" action; the
	// body is the site's JSON with Freshdesk placeholders, or the "simple"
	// field picker's object under "freshdesk_webhook". Freshdesk does not
	// sign: authenticate with the hook's secret as the password (or API
	// key) of the action's authentication.
	"freshdesk": {
		auth: HookAuthToken,
		mapping: Mapping{
			Ticket: Paths{"freshdesk_webhook.ticket_id", "ticket.id"},
			Status: Paths{"freshdesk_webhook.touchtrail_status", "ticket.event", "freshdesk_webhook.ticket_status", "ticket.status"},
			StatusValues: with(ticketStatusWords, map[string]string{
				// Freshdesk's status names and codes.
				"2": "opened", "3": "replied", "4": "solved", "5": "solved",
				"waiting on customer": "replied", "waiting on third party": "replied",
			}),
			Channel: Paths{"freshdesk_webhook.ticket_source", "ticket.source"},
			ChannelValues: with(ticketChannelWords, map[string]string{
				// Freshdesk's source names and codes.
				"1": "email", "2": "form", "3": "phone", "7": "chat", "9": "form", "10": "email",
				"feedback widget": "form", "outbound email": "email", "forum": "form", "ecommerce": "api",
			}),
			Visitor:  Paths{"freshdesk_webhook.ticket_cf_tt_v", "ticket.tt_v"},
			User:     Paths{"freshdesk_webhook.ticket_contact_unique_external_id", "ticket.user"},
			Time:     Paths{"freshdesk_webhook.ticket_updated_at", "ticket.updated_at"},
			Subject:  Paths{"freshdesk_webhook.ticket_subject", "ticket.subject"},
			Category: Paths{"freshdesk_webhook.ticket_ticket_type", "ticket.type"},
			Score:    Paths{"freshdesk_webhook.ticket_satisfaction_rating", "ticket.satisfaction"},
		},
	},
	// LiveAgent: a rule with the "Send request" (call URL) action, its
	// body written with LiveAgent's conversation placeholders (the README's
	// template). LiveAgent does not sign: put the secret in the URL's token
	// parameter or an Authorization header. Conversation statuses and
	// channels come as LiveAgent's one-letter codes.
	"liveagent": {
		auth: HookAuthToken,
		mapping: Mapping{
			Ticket: Paths{"conversation.code", "conversation.id"},
			Status: Paths{"conversation.event", "conversation.status"},
			StatusValues: with(ticketStatusWords, map[string]string{
				// LiveAgent's conversation statuses: I init, N new, T
				// chatting, P calling, C open, A answered, W postponed, R
				// resolved (X deleted and B spam map to nothing).
				"i": "opened", "n": "opened", "t": "replied", "p": "replied", "c": "opened", "a": "replied",
				"w": "replied", "r": "solved",
			}),
			Channel: Paths{"conversation.channel"},
			ChannelValues: with(ticketChannelWords, map[string]string{
				// LiveAgent's channel types: E email, B chat button, I chat
				// invitation, M contact form, F Facebook, T Twitter, C call,
				// A API, W knowledge-base feedback.
				"e": "email", "b": "chat", "i": "chat", "m": "form", "f": "social", "t": "social", "c": "phone",
				"a": "api", "w": "form",
			}),
			Visitor:  Paths{"conversation.tt_v", "contact.tt_v"},
			User:     Paths{"contact.user"},
			Time:     Paths{"conversation.date_changed", "conversation.date_created"},
			Subject:  Paths{"conversation.subject"},
			Category: Paths{"conversation.department"},
			Score:    Paths{"conversation.rating"},
		},
	},
	// Anything else: the hook's own mapping, over these defaults (the
	// shape of the wire's ticket fields).
	"generic": {
		auth: HookAuthHMAC,
		mapping: Mapping{
			Ticket: Paths{"ticket"}, Status: Paths{"status"}, StatusValues: ticketStatusWords,
			Channel: Paths{"ticket_channel", "channel"}, ChannelValues: ticketChannelWords,
			Visitor: Paths{"visitor"}, User: Paths{"user"}, Time: Paths{"ts", "time"}, Delivery: Paths{"id"},
			Subject: Paths{"subject"}, Category: Paths{"category"}, Score: Paths{"score"},
		},
	},
}
