package journey

import "encoding/binary"

func (p *Paths) params() params {
	return params{}.step(p.start).i(int64(p.depth)).config(&p.cfg).scope(&p.Scope)
}

// Merge folds o's sequences and transitions into p, as if p had been given
// o's visitors too (a visitor must be in one of them only): every
// sequence keeps its full count, so the top of the merged Result is the
// top of all visitors. It returns ErrMismatch when o was made with another
// start, depth, Config or Scope. o is not modified.
func (p *Paths) Merge(o *Paths) error {
	if err := checkMerge("paths", p.params(), o.params()); err != nil {
		return err
	}
	remap := p.remap(&o.labelTable)
	p.nVis += o.nVis
	for k, c := range o.seqs {
		p.seq = p.seq[:0]
		for i := 0; i+4 <= len(k); i += 4 {
			p.seq = binary.BigEndian.AppendUint32(p.seq, remap[binary.BigEndian.Uint32([]byte(k[i:i+4]))])
		}
		p.addSeq(p.seq, o.counts[c])
	}
	for t, n := range o.trans {
		p.trans[transKey{depth: t.depth, from: remap[t.from], to: remap[t.to]}] += n
	}
	return nil
}

// addSeq counts n visitors for the sequence of label ids seq.
func (p *Paths) addSeq(seq []byte, n int) {
	if k, ok := p.seqs[string(seq)]; ok {
		p.counts[k] += n
	} else {
		p.seqs[string(seq)] = len(p.counts)
		p.counts = append(p.counts, n)
	}
}

// MarshalBinary returns p's partial state: every label, every distinct
// sequence with its count and every transition (no top-N cut: Result cuts
// after the merge), with a version byte and a fingerprint of the start,
// depth, Config and Scope. Its size grows with the distinct sequences,
// at most one a visitor.
func (p *Paths) MarshalBinary() ([]byte, error) {
	e := enc(header(nil, kindPaths, p.params())).n(p.nVis).n(len(p.labels))
	for _, l := range p.labels {
		e = e.s(l)
	}
	e = e.n(len(p.seqs))
	for k, c := range p.seqs {
		e = e.n(len(k) / 4)
		for i := 0; i+4 <= len(k); i += 4 {
			e = e.u(uint64(binary.BigEndian.Uint32([]byte(k[i : i+4]))))
		}
		e = e.n(p.counts[c])
	}
	e = e.n(len(p.trans))
	for t, n := range p.trans {
		e = e.n(t.depth).u(uint64(t.from)).u(uint64(t.to)).n(n)
	}
	return e, nil
}

// UnmarshalBinary replaces p's state with a partial state MarshalBinary
// wrote for paths made with the same start, depth, Config and Scope
// (ErrMismatch otherwise). Malformed input is ErrCorrupt; p is then
// unchanged.
func (p *Paths) UnmarshalBinary(b []byte) error {
	d, err := open(b, "paths", kindPaths, p.params())
	if err != nil {
		return err
	}
	q := &Paths{labelTable: newLabelTable(), seqs: map[string]int{}, trans: map[transKey]int{}}
	q.nVis = d.n()
	labels := d.length(1)
	for range labels {
		l := d.s()
		if _, dup := q.ids[l]; dup && d.err == nil {
			d.fail("label %q twice", l)
		}
		q.internLabel(l)
	}
	id := func() uint32 {
		v := d.u()
		if d.err == nil && v >= uint64(len(q.labels)) {
			d.fail("label id %d of %d", v, len(q.labels))
		}
		return uint32(v)
	}
	seqs, total := d.length(2), 0
	for i := 0; i < seqs && d.err == nil; i++ {
		n := d.length(1)
		if n > p.depth {
			d.fail("sequence of %d labels, depth %d", n, p.depth)
		}
		q.seq = q.seq[:0]
		for range n {
			q.seq = binary.BigEndian.AppendUint32(q.seq, id())
		}
		c := d.n()
		if _, dup := q.seqs[string(q.seq)]; d.err == nil && (c == 0 || dup) {
			d.fail("sequence count %d or repeated", c)
		}
		q.addSeq(q.seq, c)
		total += c
	}
	if d.err == nil && total != q.nVis {
		d.fail("sequences of %d visitors, want %d", total, q.nVis)
	}
	trans := d.length(4)
	for i := 0; i < trans && d.err == nil; i++ {
		t := transKey{depth: d.n(), from: id(), to: id()}
		n := d.n()
		if _, dup := q.trans[t]; d.err == nil && (t.depth >= p.depth-1 || n == 0 || n > q.nVis || dup) {
			d.fail("transition %+v: %d visitors", t, n)
		}
		q.trans[t] = n
	}
	if err := d.done("paths"); err != nil {
		return err
	}
	p.nVis, p.ids, p.labels, p.seqs, p.counts, p.trans = q.nVis, q.ids, q.labels, q.seqs, q.counts, q.trans
	return nil
}
