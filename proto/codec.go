package proto

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// MaxPayload is the largest payload Decode accepts.
const MaxPayload = 1 << 20

var encPool = sync.Pool{New: func() any {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	// Sorted map keys make the encoding deterministic: the same message always
	// has the same bytes, which the golden vectors and the dedupe ids rely on.
	enc.SetSortMapKeys(true)
	enc.UseCompactInts(true)
	enc.UseCompactFloats(false)
	return &encoder{buf: &buf, enc: enc}
}}

type encoder struct {
	buf *bytes.Buffer
	enc *msgpack.Encoder
}

// Encode returns the MessagePack encoding of m. Map keys are sorted, so equal
// messages encode to equal bytes. The returned slice is the caller's.
func Encode(m Message) ([]byte, error) {
	e := encPool.Get().(*encoder)
	defer encPool.Put(e)
	e.buf.Reset()
	if err := e.enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode %T: %w", m, err)
	}
	return bytes.Clone(e.buf.Bytes()), nil
}

// Decode decodes data into m and validates it. It rejects payloads over
// MaxPayload, unknown schema versions and fields breaking the README's rules.
// m does not keep a reference to data.
func Decode(data []byte, m Message) error {
	return decode(data, m, false)
}

// decode is Decode; strict refuses fields m does not have (replica states
// only: DecodeReplicaState).
func decode(data []byte, m Message, strict bool) error {
	if len(data) > MaxPayload {
		return fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrInvalid, len(data), MaxPayload)
	}
	// Walk the bytes first: a declared size larger than the payload would
	// otherwise make the decoder allocate for it before failing.
	if err := CheckMsgpack(data); err != nil {
		return fmt.Errorf("decode %T: %w", m, err)
	}
	var err error
	if strict {
		dec := msgpack.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields(true)
		err = dec.Decode(m)
	} else {
		err = msgpack.Unmarshal(data, m) // its pooled decoder: every stage's hot path
	}
	if err != nil {
		return fmt.Errorf("decode %T: %w", m, err)
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("decode %T: %w", m, err)
	}
	return nil
}
