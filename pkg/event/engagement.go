package event

import "strconv"

// An engagement touchpoint (t-engage.js) says how much of a page view was
// used: the milliseconds the page was visible while the visitor was active,
// and the deepest scroll, in percent of the document. It carries them as
// the props PropEngagedMS and PropScroll (on the wire, fields or props of
// those names: unknown scalar fields become props), so it needs no field
// of its own in the storage encoding. Its URL is the page's.
const (
	PropEngagedMS = "engaged_ms"
	PropScroll    = "scroll"
)

// MaxEngagedMS bounds the engaged time of one page view: 24 hours.
const MaxEngagedMS = 24 * 3600 * 1000

// Engagement returns the engaged milliseconds and the scroll depth (0..100)
// of an engagement touchpoint; ok is false when tp is not one or they are
// missing or out of range.
func (tp *Touchpoint) Engagement() (ms int64, scroll int, ok bool) {
	if tp.Type != TypeEngagement {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseInt(tp.Prop(PropEngagedMS), 10, 64)
	sc, err2 := strconv.Atoi(tp.Prop(PropScroll))
	if err1 != nil || err2 != nil || ms < 0 || ms > MaxEngagedMS || sc < 0 || sc > 100 {
		return 0, 0, false
	}
	return ms, sc, true
}

func (tp *Touchpoint) validateEngagement() error {
	if _, err := strconv.ParseInt(tp.Prop(PropEngagedMS), 10, 64); err != nil {
		return invalid(PropEngagedMS, "missing or not an integer for an engagement")
	}
	if _, err := strconv.Atoi(tp.Prop(PropScroll)); err != nil {
		return invalid(PropScroll, "missing or not an integer for an engagement")
	}
	if _, _, ok := tp.Engagement(); !ok {
		return invalid(PropEngagedMS, "engaged_ms must be 0..86400000 and scroll 0..100")
	}
	return nil
}
