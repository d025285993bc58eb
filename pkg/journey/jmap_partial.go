package journey

func (m *Map) params() params {
	return params{}.config(&m.cfg).scope(&m.Scope).u(uint64(m.Channel)).u(uint64(stageCount)).u(signalCount)
}

// Merge folds o's counts into m, as if m had been given o's visitors too (a
// visitor must be in one of them only); every stage keeps the count of
// every touchpoint label, so the merged top is the top of all visitors. It
// returns ErrMismatch when o was made with another Config, Scope or
// Channel. o is not modified.
func (m *Map) Merge(o *Map) error {
	if err := checkMerge("journey map", m.params(), o.params()); err != nil {
		return err
	}
	remap := m.remap(&o.labelTable)
	m.visitors += o.visitors
	for s := range m.stages {
		a, b := &m.stages[s], &o.stages[s]
		a.visitors += b.visitors
		a.touchpoints += b.touchpoints
		for id, n := range b.labels {
			a.labels[remap[id]] += n
		}
		for sig := range a.signals {
			a.signals[sig] += b.signals[sig]
		}
		a.responses += b.responses
		a.sums.merge(b.sums)
		a.left += b.left
		for to := range m.flows[s] {
			m.flows[s][to] += o.flows[s][to]
		}
	}
	return nil
}

// MarshalBinary returns m's partial state: every label and, per stage, its
// counts, the count of every label (no top-N cut: Result cuts after the
// merge) and the exact feedback sums, then the flows, with a version byte
// and a fingerprint of the Config, Scope and Channel.
func (m *Map) MarshalBinary() ([]byte, error) {
	e := enc(header(nil, kindMap, m.params())).n(m.visitors).n(len(m.labels))
	for _, l := range m.labels {
		e = e.s(l)
	}
	for s := range m.stages {
		a := &m.stages[s]
		e = e.n(a.visitors).n(a.touchpoints).n(a.left).n(a.responses)
		e = a.sums.encode(e)
		for _, n := range a.signals {
			e = e.n(n)
		}
		e = e.n(len(a.labels))
		for id, n := range a.labels {
			e = e.u(uint64(id)).n(n)
		}
		for _, n := range m.flows[s] {
			e = e.n(n)
		}
	}
	return e, nil
}

// UnmarshalBinary replaces m's state with a partial state MarshalBinary
// wrote for a map made with the same Config, Scope and Channel
// (ErrMismatch otherwise). Malformed input is ErrCorrupt; m is then
// unchanged.
func (m *Map) UnmarshalBinary(b []byte) error {
	d, err := open(b, "journey map", kindMap, m.params())
	if err != nil {
		return err
	}
	q := &Map{labelTable: newLabelTable()}
	q.visitors = d.n()
	labels := d.length(1)
	for range labels {
		l := d.s()
		if _, dup := q.ids[l]; dup && d.err == nil {
			d.fail("label %q twice", l)
		}
		q.internLabel(l)
	}
	left := 0
	for s := range q.stages {
		a := &q.stages[s]
		a.visitors, a.touchpoints, a.left, a.responses = d.n(), d.n(), d.n(), d.n()
		a.sums = decodeScoreSums(d)
		if d.err == nil && (a.visitors > q.visitors || a.left > a.visitors || a.visitors > a.touchpoints ||
			(a.responses == 0) != (len(a.sums) == 0)) {
			d.fail("stage %s: %d visitors of %d, %d touchpoints, %d left, %d responses", Stage(s), a.visitors, q.visitors,
				a.touchpoints, a.left, a.responses)
		}
		left += a.left
		for sig := range a.signals {
			if a.signals[sig] = d.n(); d.err == nil && a.signals[sig] > a.visitors {
				d.fail("stage %s: signal %s of %d visitors", Stage(s), signalNames[sig], a.signals[sig])
			}
		}
		n := d.length(2)
		a.labels = make(map[uint32]int, n)
		for i := 0; i < n && d.err == nil; i++ {
			id, c := d.u(), d.n()
			if _, dup := a.labels[uint32(id)]; d.err == nil && (id >= uint64(len(q.labels)) || c == 0 || c > a.visitors || dup) {
				d.fail("stage %s: label %d of %d, %d visitors", Stage(s), id, len(q.labels), c)
			}
			a.labels[uint32(id)] = c
		}
		for to := range q.flows[s] {
			if q.flows[s][to] = d.n(); d.err == nil && q.flows[s][to] > q.visitors {
				d.fail("flow %s → %s: %d visitors of %d", Stage(s), Stage(to), q.flows[s][to], q.visitors)
			}
		}
	}
	if d.err == nil && left > q.visitors {
		d.fail("%d visitors left a stage, more than %d", left, q.visitors)
	}
	if err := d.done("journey map"); err != nil {
		return err
	}
	m.visitors, m.ids, m.labels, m.stages, m.flows = q.visitors, q.ids, q.labels, q.stages, q.flows
	return nil
}
