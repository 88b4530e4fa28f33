package proto

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// maxDepth bounds how deeply a msgpack value may nest; the deepest message
// (an anomaly's incident evidence) needs 4.
const maxDepth = 8

var errTruncated = errors.New("truncated msgpack")

// CheckMsgpack walks one msgpack value without decoding it and rejects what
// a decoder must not be handed: a container or string whose declared
// size exceeds the bytes that follow (a 6-byte body can otherwise ask the
// decoder for a map of two billion entries), nesting deeper than maxDepth,
// the reserved byte 0xc1, and bytes after the value.
func CheckMsgpack(b []byte) error {
	// open holds, per open container, how many values it still expects.
	var stack [maxDepth + 1]uint64
	open := append(stack[:0], 1)
	pos := 0
	for len(open) > 0 {
		if open[len(open)-1] == 0 {
			open = open[:len(open)-1]
			continue
		}
		open[len(open)-1]--
		if pos >= len(b) {
			return errTruncated
		}
		c := b[pos]
		pos++
		var size, items uint64 // bytes to skip; values contained
		switch {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		case c >= 0x80 && c <= 0x8f:
			items = 2 * uint64(c&0x0f)
		case c >= 0x90 && c <= 0x9f:
			items = uint64(c & 0x0f)
		case c >= 0xa0 && c <= 0xbf:
			size = uint64(c & 0x1f)
		default:
			n, width, err := sized(c, b[pos:])
			if err != nil {
				return err
			}
			pos += width
			switch c {
			case 0xdc, 0xdd:
				items = n
			case 0xde, 0xdf:
				items = 2 * n
			default:
				size = n
			}
		}
		if size > uint64(len(b)-pos) {
			return fmt.Errorf("%w: %d bytes declared at offset %d, %d left", errTruncated, size, pos, len(b)-pos)
		}
		pos += int(size)
		if items > 0 {
			// Every value takes at least one byte.
			if items > uint64(len(b)-pos) {
				return fmt.Errorf("%w: %d values declared at offset %d, %d bytes left", errTruncated, items, pos, len(b)-pos)
			}
			if len(open) >= maxDepth {
				return fmt.Errorf("msgpack nested deeper than %d", maxDepth)
			}
			open = append(open, items)
		}
	}
	if pos != len(b) {
		return fmt.Errorf("%d bytes after the msgpack value", len(b)-pos)
	}
	return nil
}

// sized decodes the length or fixed size that follows type byte c: the
// value's byte size (or element count for arrays and maps) and how many
// bytes the length itself took.
func sized(c byte, b []byte) (n uint64, width int, err error) {
	switch c {
	case 0xc4, 0xd9: // bin8, str8
		return beUint(b, 1)
	case 0xc5, 0xda, 0xdc, 0xde: // bin16, str16, array16, map16
		return beUint(b, 2)
	case 0xc6, 0xdb, 0xdd, 0xdf: // bin32, str32, array32, map32
		return beUint(b, 4)
	case 0xc7, 0xc8, 0xc9: // ext8/16/32: length, then a type byte
		n, width, err := beUint(b, 1<<(c-0xc7))
		return n + 1, width, err
	case 0xca, 0xce, 0xd2: // float32, uint32, int32
		return 4, 0, nil
	case 0xcb, 0xcf, 0xd3: // float64, uint64, int64
		return 8, 0, nil
	case 0xcc, 0xd0: // uint8, int8
		return 1, 0, nil
	case 0xcd, 0xd1: // uint16, int16
		return 2, 0, nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16 plus the type byte
		return 1 + uint64(1)<<(c-0xd4), 0, nil
	}
	return 0, 0, fmt.Errorf("msgpack: invalid type byte 0x%02x", c)
}

// beUint reads a big-endian unsigned integer of w (1, 2 or 4) bytes.
func beUint(b []byte, w int) (uint64, int, error) {
	if len(b) < w {
		return 0, 0, errTruncated
	}
	switch w {
	case 1:
		return uint64(b[0]), 1, nil
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), 2, nil
	}
	return uint64(binary.BigEndian.Uint32(b)), 4, nil
}
