package journey

func (e *Engagement) params() params {
	return params{}.config(&e.cfg).scope(&e.Scope)
}

func (a *pageAcc) merge(o *pageAcc) {
	a.views += o.views
	a.engaged += o.engaged
	a.quick += o.quick
	a.scrolled75 += o.scrolled75
	a.scrollSum += o.scrollSum
	a.msSum += o.msSum
	a.seconds.merge(&o.seconds)
}

// Merge folds o's pages into e, as if e had been given o's visitors too (a
// visitor must be in one of them only); every page keeps its counts, so
// the merged top is the top of all visitors. It returns ErrMismatch when o
// was made with another Config or Scope. o is not modified.
func (e *Engagement) Merge(o *Engagement) error {
	if err := checkMerge("engagement", e.params(), o.params()); err != nil {
		return err
	}
	e.visitors += o.visitors
	e.help.merge(&o.help)
	for p, oa := range o.pages {
		a := e.pages[p]
		if a == nil {
			a = &pageAcc{help: oa.help}
			e.pages[p] = a
		}
		a.merge(oa)
	}
	return nil
}

// MarshalBinary returns e's partial state: every page's counts and engaged
// times (8 bytes a time up to ExactValues, then the sketch's bins) and the
// help pages' together, with a version byte and a fingerprint of the
// Config and Scope. Its size grows with the distinct pages.
func (e *Engagement) MarshalBinary() ([]byte, error) {
	size := 64 + e.help.seconds.size()
	for p, a := range e.pages {
		size += 24 + len(p) + a.seconds.size()
	}
	b := e.help.encode(enc(header(make([]byte, 0, size), kindEngagement, e.params())).n(e.visitors))
	b = b.n(len(e.pages))
	for p, a := range e.pages {
		b = a.encode(b.s(p))
	}
	return b, nil
}

// UnmarshalBinary replaces e's state with a partial state MarshalBinary
// wrote for engagement made with the same Config and Scope (ErrMismatch
// otherwise). Malformed input is ErrCorrupt; e is then unchanged.
func (e *Engagement) UnmarshalBinary(b []byte) error {
	d, err := open(b, "engagement", kindEngagement, e.params())
	if err != nil {
		return err
	}
	visitors := d.n()
	var help pageAcc
	help.decode(d)
	n := d.length(8)
	pages := make(map[string]*pageAcc, n)
	for i := 0; i < n && d.err == nil; i++ {
		p := d.s()
		a := &pageAcc{}
		a.decode(d)
		if _, dup := pages[p]; d.err == nil && (a.views == 0 || dup) {
			d.fail("page %q: %d views, or repeated", p, a.views)
		}
		pages[p] = a
	}
	if err := d.done("engagement"); err != nil {
		return err
	}
	e.visitors, e.help, e.pages = visitors, help, pages
	return nil
}

func (a *pageAcc) encode(e enc) enc {
	e = e.n(a.views).n(a.engaged).n(a.quick).n(a.scrolled75).n(int(a.scrollSum)).n(int(a.msSum))
	if a.help {
		e = e.u(1)
	} else {
		e = e.u(0)
	}
	return a.seconds.encode(e)
}

func (a *pageAcc) decode(d *dec) {
	a.views, a.engaged, a.quick, a.scrolled75 = d.n(), d.n(), d.n(), d.n()
	a.scrollSum, a.msSum = int64(d.n()), int64(d.n())
	help := d.u()
	a.help = help == 1
	a.seconds.decode(d)
	if d.err == nil && (help > 1 || a.engaged > a.views || a.quick > a.engaged || a.scrolled75 > a.engaged ||
		a.scrollSum > 100*int64(a.engaged) || a.seconds.n != a.engaged) {
		d.fail("page counts: %d views, %d engaged, %d quick, %d scrolled, %d engaged times", a.views, a.engaged,
			a.quick, a.scrolled75, a.seconds.n)
	}
}
