package journey

func (ss *SelfService) params() params {
	return params{}.config(&ss.cfg).scope(&ss.Scope)
}

// Merge folds o's counts into ss, as if ss had been given o's visitors too
// (a visitor must be in one of them only); every page and term keeps its
// counts, so the merged top is the top of all visitors. It returns
// ErrMismatch when o was made with another Config or Scope. o is not
// modified.
func (ss *SelfService) Merge(o *SelfService) error {
	if err := checkMerge("self-service", ss.params(), o.params()); err != nil {
		return err
	}
	ss.visitors += o.visitors
	ss.helped += o.helped
	ss.served += o.served
	ss.chat += o.chat
	ss.ticket += o.ticket
	mergeSSCounts(ss.pages, o.pages)
	mergeSSCounts(ss.terms, o.terms)
	return nil
}

func mergeSSCounts(m, o map[string]*ssCount) {
	for k, oc := range o {
		c := m[k]
		if c == nil {
			c = &ssCount{}
			m[k] = c
		}
		c.visitors += oc.visitors
		c.served += oc.served
		c.chat += oc.chat
		c.ticket += oc.ticket
	}
}

// MarshalBinary returns ss's partial state: the counts overall and of
// every help page and search term, with a version byte and a fingerprint
// of the Config and Scope. Its size grows with the distinct pages and
// terms (a term is at most MaxTermRunes).
func (ss *SelfService) MarshalBinary() ([]byte, error) {
	e := enc(header(nil, kindSelfService, ss.params())).n(ss.visitors).n(ss.helped).n(ss.served).n(ss.chat).n(ss.ticket)
	for _, m := range []map[string]*ssCount{ss.pages, ss.terms} {
		e = e.n(len(m))
		for k, c := range m {
			e = e.s(k).n(c.visitors).n(c.served).n(c.chat).n(c.ticket)
		}
	}
	return e, nil
}

// UnmarshalBinary replaces ss's state with a partial state MarshalBinary
// wrote for self-service made with the same Config and Scope (ErrMismatch
// otherwise). Malformed input is ErrCorrupt; ss is then unchanged.
func (ss *SelfService) UnmarshalBinary(b []byte) error {
	d, err := open(b, "self-service", kindSelfService, ss.params())
	if err != nil {
		return err
	}
	visitors, helped, served, chat, ticket := d.n(), d.n(), d.n(), d.n(), d.n()
	if d.err == nil && (helped > visitors || served > helped || chat > helped || ticket > helped) {
		d.fail("%d visitors, %d helped, %d self-served, %d chat, %d ticket", visitors, helped, served, chat, ticket)
	}
	var maps [2]map[string]*ssCount
	for i := range maps {
		n := d.length(5)
		maps[i] = make(map[string]*ssCount, n)
		for j := 0; j < n && d.err == nil; j++ {
			k := d.s()
			c := &ssCount{visitors: d.n(), served: d.n(), chat: d.n(), ticket: d.n()}
			if _, dup := maps[i][k]; d.err == nil && (c.visitors == 0 || c.visitors > helped || c.served > c.visitors ||
				c.chat > c.visitors || c.ticket > c.visitors || dup) {
				d.fail("%q: %+v of %d helped, or repeated", k, *c, helped)
			}
			maps[i][k] = c
		}
	}
	if err := d.done("self-service"); err != nil {
		return err
	}
	ss.visitors, ss.helped, ss.served, ss.chat, ss.ticket = visitors, helped, served, chat, ticket
	ss.pages, ss.terms = maps[0], maps[1]
	return nil
}
