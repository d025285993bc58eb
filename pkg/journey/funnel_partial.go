package journey

func (f *Funnel) params() params {
	p := params{}.u(uint64(len(f.steps)))
	for i := range f.steps {
		p = p.step(&f.steps[i])
	}
	return p.i(f.within).scope(&f.Scope)
}

// Merge folds o's counts into f, as if f had been given o's visitors too
// (a visitor must be in one of them only). It returns ErrMismatch when o
// was made with other steps, window or Scope. o is not modified.
func (f *Funnel) Merge(o *Funnel) error {
	if err := checkMerge("funnel", f.params(), o.params()); err != nil {
		return err
	}
	f.visitors += o.visitors
	for k := range f.counts {
		f.counts[k] += o.counts[k]
		f.deltas[k].merge(&o.deltas[k])
	}
	return nil
}

// MarshalBinary returns f's partial state: counts and the times between
// steps (8 bytes a time up to ExactValues, then the sketch's bins), with a
// version byte and a fingerprint of the steps, window and Scope.
func (f *Funnel) MarshalBinary() ([]byte, error) {
	size := 32
	for k := range f.deltas {
		size += 8 + f.deltas[k].size()
	}
	e := enc(header(make([]byte, 0, size), kindFunnel, f.params())).n(f.visitors)
	for k := range f.counts {
		e = f.deltas[k].encode(e.n(f.counts[k]))
	}
	return e, nil
}

// UnmarshalBinary replaces f's state with a partial state MarshalBinary
// wrote for a funnel made with the same steps, window and Scope
// (ErrMismatch otherwise). Malformed input is ErrCorrupt; f is then
// unchanged.
func (f *Funnel) UnmarshalBinary(b []byte) error {
	d, err := open(b, "funnel", kindFunnel, f.params())
	if err != nil {
		return err
	}
	visitors := d.n()
	counts, deltas := make([]int, len(f.steps)), make([]quantity, len(f.steps))
	for k := range counts {
		counts[k] = d.n()
		deltas[k].decode(d)
		times := counts[k] // one time from the previous step a visitor
		if k == 0 {
			times = 0
		}
		if d.err == nil && (counts[k] > visitors || k > 0 && counts[k] > counts[k-1] || deltas[k].n != times) {
			d.fail("step %d: %d visitors with %d times", k+1, counts[k], deltas[k].n)
		}
	}
	if err := d.done("funnel"); err != nil {
		return err
	}
	f.visitors, f.counts, f.deltas = visitors, counts, deltas
	return nil
}
