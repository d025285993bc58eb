package journey

import "math"

func (sa *Satisfaction) params() params {
	return params{}.config(&sa.cfg).scope(&sa.Scope).u(uint64(stageCount))
}

// Merge folds o's ratings into sa, as if sa had been given o's visitors
// too (a visitor must be in one of them only); every touchpoint keeps its
// ratings, so the merged top is the top of all visitors. It returns
// ErrMismatch when o was made with another Config or Scope. o is not
// modified.
func (sa *Satisfaction) Merge(o *Satisfaction) error {
	if err := checkMerge("satisfaction", sa.params(), o.params()); err != nil {
		return err
	}
	sa.visitors += o.visitors
	sa.raters += o.raters
	sa.overall.merge(&o.overall)
	for s := range sa.stages {
		sa.stages[s].merge(&o.stages[s])
	}
	for k, oa := range o.byTP {
		a := sa.byTP[k]
		if a == nil {
			a = &ratingAcc{}
			sa.byTP[k] = a
		}
		a.merge(oa)
	}
	return nil
}

// MarshalBinary returns sa's partial state: the ratings overall, by stage
// and by every touchpoint (exact sums of scores by scale), with a version
// byte and a fingerprint of the Config and Scope.
func (sa *Satisfaction) MarshalBinary() ([]byte, error) {
	e := enc(header(nil, kindSatisfaction, sa.params())).n(sa.visitors).n(sa.raters)
	e = sa.overall.encode(e)
	for s := range sa.stages {
		e = sa.stages[s].encode(e)
	}
	e = e.n(len(sa.byTP))
	for k, a := range sa.byTP {
		e = a.encode(e.s(k))
	}
	return e, nil
}

// UnmarshalBinary replaces sa's state with a partial state MarshalBinary
// wrote for satisfaction made with the same Config and Scope (ErrMismatch
// otherwise). Malformed input is ErrCorrupt; sa is then unchanged.
func (sa *Satisfaction) UnmarshalBinary(b []byte) error {
	d, err := open(b, "satisfaction", kindSatisfaction, sa.params())
	if err != nil {
		return err
	}
	visitors, raters := d.n(), d.n()
	if d.err == nil && raters > visitors {
		d.fail("%d raters of %d visitors", raters, visitors)
	}
	var overall ratingAcc
	var stages [stageCount]ratingAcc
	overall.decode(d)
	for s := range stages {
		stages[s].decode(d)
	}
	n := d.length(3)
	byTP := make(map[string]*ratingAcc, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.s()
		a := &ratingAcc{}
		a.decode(d)
		if _, dup := byTP[k]; d.err == nil && (a.n == 0 || dup) {
			d.fail("touchpoint %q: %d ratings, or repeated", k, a.n)
		}
		byTP[k] = a
	}
	if err := d.done("satisfaction"); err != nil {
		return err
	}
	sa.visitors, sa.raters, sa.overall, sa.stages, sa.byTP = visitors, raters, overall, stages, byTP
	return nil
}

// encode appends the ratings: count, low, then the sums by scale.
func (a *ratingAcc) encode(e enc) enc {
	e = e.n(a.n).n(a.low)
	return a.sums.encode(e)
}

func (a *ratingAcc) decode(d *dec) {
	a.n, a.low = d.n(), d.n()
	if d.err == nil && a.low > a.n {
		d.fail("%d low ratings of %d", a.low, a.n)
	}
	a.sums = decodeScoreSums(d)
	if d.err == nil && (a.n == 0) != (len(a.sums) == 0) {
		d.fail("%d ratings with sums by %d scales", a.n, len(a.sums))
	}
}

// encode appends the sums: how many, then scale and sum each, in
// increasing scale.
func (s scoreSums) encode(e enc) enc {
	e = e.n(len(s))
	for _, x := range s {
		e = e.u(uint64(x.scale)).i(x.sum)
	}
	return e
}

func decodeScoreSums(d *dec) scoreSums {
	n := d.length(2)
	var s scoreSums
	for i := 0; i < n && d.err == nil; i++ {
		scale, sum := d.u(), d.i()
		if d.err == nil && (scale == 0 || scale > math.MaxInt32 || i > 0 && int32(scale) <= s[i-1].scale) {
			d.fail("scale %d out of range or order", scale)
			break
		}
		s = append(s, scaleSum{scale: int32(scale), sum: sum})
	}
	return s
}
