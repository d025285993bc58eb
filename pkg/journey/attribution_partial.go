package journey

func (a *Attribution) params() params {
	return params{}.step(&a.conv).scope(&a.Scope)
}

// Merge folds o's counts into a, as if a had been given o's visitors too (a
// visitor must be in one of them only). It returns ErrMismatch when o was
// made with another conversion (Config) or Scope; the from of Add is not
// part of a's parameters: give every part the same. o is not modified.
func (a *Attribution) Merge(o *Attribution) error {
	if err := checkMerge("attribution", a.params(), o.params()); err != nil {
		return err
	}
	a.r.Conversions += o.r.Conversions
	addCounts(a.r.FirstChannel, o.r.FirstChannel)
	addCounts(a.r.LastChannel, o.r.LastChannel)
	addCounts(a.r.FirstCampaign, o.r.FirstCampaign)
	addCounts(a.r.LastCampaign, o.r.LastCampaign)
	return nil
}

// MarshalBinary returns a's partial state: the counts, with a version byte
// and a fingerprint of the conversion and Scope.
func (a *Attribution) MarshalBinary() ([]byte, error) {
	e := enc(header(nil, kindAttribution, a.params())).n(a.r.Conversions)
	for _, m := range []map[string]int{a.r.FirstChannel, a.r.LastChannel, a.r.FirstCampaign, a.r.LastCampaign} {
		e = encodeCounts(e, m)
	}
	return e, nil
}

// UnmarshalBinary replaces a's state with a partial state MarshalBinary
// wrote for attribution made with the same conversion and Scope
// (ErrMismatch otherwise). Malformed input is ErrCorrupt; a is then
// unchanged.
func (a *Attribution) UnmarshalBinary(b []byte) error {
	d, err := open(b, "attribution", kindAttribution, a.params())
	if err != nil {
		return err
	}
	r := AttributionResult{Conversions: d.n()}
	r.FirstChannel = decodeCounts(d, r.Conversions)
	r.LastChannel = decodeCounts(d, r.Conversions)
	r.FirstCampaign = decodeCounts(d, r.Conversions)
	r.LastCampaign = decodeCounts(d, r.Conversions)
	if err := d.done("attribution"); err != nil {
		return err
	}
	a.r = r
	return nil
}
