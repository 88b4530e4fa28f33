package proto

import (
	"fmt"
	"slices"

	"github.com/vmihailenco/msgpack/v5"
)

// Floats maps names to numbers (a tick's values, a decision's inputs). It
// encodes with its keys sorted, so a message always has the same bytes.
type Floats map[string]float64

var (
	_ msgpack.CustomEncoder = Floats(nil)
	_ msgpack.CustomDecoder = (*Floats)(nil)
)

// EncodeMsgpack writes the map with sorted keys, or nil for a nil map.
func (f Floats) EncodeMsgpack(enc *msgpack.Encoder) error {
	if f == nil {
		return enc.EncodeNil()
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if err := enc.EncodeMapLen(len(keys)); err != nil {
		return err
	}
	for _, k := range keys {
		if err := enc.EncodeString(k); err != nil {
			return err
		}
		if err := enc.EncodeFloat64(f[k]); err != nil {
			return err
		}
	}
	return nil
}

// DecodeMsgpack reads a map of string to number; integers are accepted and
// converted, anything else is an error.
func (f *Floats) DecodeMsgpack(dec *msgpack.Decoder) error {
	n, err := dec.DecodeMapLen()
	if err != nil {
		return err
	}
	if n < 0 {
		*f = nil
		return nil
	}
	if n > MaxMetricValues*4 {
		return fmt.Errorf("map of %d entries is too large", n)
	}
	m := make(Floats, n)
	for range n {
		k, err := dec.DecodeString()
		if err != nil {
			return err
		}
		v, err := dec.DecodeFloat64()
		if err != nil {
			return fmt.Errorf("value of %q: %w", k, err)
		}
		m[k] = v
	}
	*f = m
	return nil
}
