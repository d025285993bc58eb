package journey

// labelTable interns touchpoint labels ("pageview /pricing", "search"):
// each distinct label kept once and named by a small id, so accumulators
// count ids, and partial states merge by remapping one table's ids into
// another's.
type labelTable struct {
	ids    map[string]uint32 // label → id
	labels []string          // id → label
}

func newLabelTable() labelTable { return labelTable{ids: map[string]uint32{}} }

// internBytes returns the id of label b, copying b only when it is new.
func (t *labelTable) internBytes(b []byte) uint32 {
	if id, ok := t.ids[string(b)]; ok {
		return id
	}
	return t.add(string(b))
}

// internLabel returns the id of label l.
func (t *labelTable) internLabel(l string) uint32 {
	if id, ok := t.ids[l]; ok {
		return id
	}
	return t.add(l)
}

func (t *labelTable) add(l string) uint32 {
	id := uint32(len(t.labels))
	t.ids[l] = id
	t.labels = append(t.labels, l)
	return id
}

// remap returns, for each of o's ids, the id of the same label in t,
// adding to t the labels it lacks.
func (t *labelTable) remap(o *labelTable) []uint32 {
	ids := make([]uint32, len(o.labels))
	for i, l := range o.labels {
		ids[i] = t.internLabel(l)
	}
	return ids
}
