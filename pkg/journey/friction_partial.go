package journey

import "github.com/touchtrail/touchtrail/pkg/event"

func (f *Friction) params() params {
	return params{}.config(&f.cfg).scope(&f.Scope).u(signalCount)
}

// Merge folds o's counts, examples and abandon pages into f, as if f had
// been given o's visitors too (a visitor must be in one of them only). It
// returns ErrMismatch when o was made with another Config or Scope. o is
// not modified.
func (f *Friction) Merge(o *Friction) error {
	if err := checkMerge("friction", f.params(), o.params()); err != nil {
		return err
	}
	f.visitors += o.visitors
	for i := range f.counts {
		f.counts[i] += o.counts[i]
		for _, v := range o.examples[i] {
			f.examples[i] = keepExample(f.examples[i], v)
		}
	}
	for step, n := range o.atStep {
		f.atStep[step] += n
	}
	addCounts(f.pages, o.pages)
	return nil
}

// MarshalBinary returns f's partial state: counts, up to MaxExamples
// example ids a signal, every abandon page with its count, with a version
// byte and a fingerprint of the Config and Scope.
func (f *Friction) MarshalBinary() ([]byte, error) {
	e := enc(header(nil, kindFriction, f.params())).n(f.visitors)
	for i := range f.counts {
		e = e.n(f.counts[i]).n(len(f.examples[i]))
		for _, v := range f.examples[i] {
			e = append(e, v[:]...)
		}
	}
	e = e.n(len(f.atStep))
	for step, n := range f.atStep {
		e = e.u(uint64(step)).n(n)
	}
	return encodeCounts(e, f.pages), nil
}

// UnmarshalBinary replaces f's state with a partial state MarshalBinary
// wrote for friction made with the same Config and Scope (ErrMismatch
// otherwise). Malformed input is ErrCorrupt; f is then unchanged.
func (f *Friction) UnmarshalBinary(b []byte) error {
	d, err := open(b, "friction", kindFriction, f.params())
	if err != nil {
		return err
	}
	visitors := d.n()
	var counts [signalCount]int
	var examples [signalCount][]event.VisitorID
	for i := range counts {
		counts[i] = d.n()
		n := d.length(16)
		if d.err == nil && (counts[i] > visitors || n > min(counts[i], MaxExamples)) {
			d.fail("signal %s: %d visitors of %d, %d examples", signalNames[i], counts[i], visitors, n)
			break
		}
		for k := range n {
			var v event.VisitorID
			copy(v[:], d.b)
			d.b = d.b[16:]
			if k > 0 && compareVisitors(examples[i][k-1], v) >= 0 {
				d.fail("signal %s: examples out of order", signalNames[i])
				break
			}
			examples[i] = append(examples[i], v)
		}
	}
	atStep := map[uint32]int{}
	steps := d.length(2)
	for i := 0; i < steps && d.err == nil; i++ {
		step, n := d.u(), d.n()
		if _, dup := atStep[uint32(step)]; d.err == nil && (step == 0 || step > 1<<32-1 || n == 0 || n > visitors || dup) {
			d.fail("abandoned at step %d: %d visitors", step, n)
		}
		atStep[uint32(step)] = n
	}
	pages := decodeCounts(d, visitors)
	if err := d.done("friction"); err != nil {
		return err
	}
	f.visitors, f.counts, f.examples, f.atStep, f.pages = visitors, counts, examples, atStep, pages
	return nil
}

// addCounts adds o's counts to m's.
func addCounts(m, o map[string]int) {
	for k, n := range o {
		m[k] += n
	}
}

// encodeCounts appends a map of counts by string.
func encodeCounts(e enc, m map[string]int) enc {
	e = e.n(len(m))
	for k, n := range m {
		e = e.s(k).n(n)
	}
	return e
}

// decodeCounts reads what encodeCounts wrote: each count 1..most.
func decodeCounts(d *dec, most int) map[string]int {
	n := d.length(2)
	m := make(map[string]int, n)
	for i := 0; i < n && d.err == nil; i++ {
		k, c := d.s(), d.n()
		if _, dup := m[k]; d.err == nil && (c == 0 || c > most || dup) {
			d.fail("count %d of %q (most %d)", c, k, most)
		}
		m[k] = c
	}
	return m
}
