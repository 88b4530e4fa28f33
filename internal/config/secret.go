package config

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// MinSecretBytes is the shortest plaintext secret Headroom accepts: 16
// bytes, 128 bits when the bytes are random ones. A token made by
// `openssl rand -hex 16` has 32 characters and passes; one made by
// `openssl rand -hex 32` (what the deployments suggest) has 64.
const MinSecretBytes = 16

// ErrWeakSecret reports a plaintext secret shorter than MinSecretBytes.
var ErrWeakSecret = errors.New("too short")

// ErrSecretSpace reports a secret that begins or ends with white space or
// holds a control character: no client can send it in an Authorization
// header (servers trim the white space around a header's value and refuse
// control characters), so every request would fail authentication. It is
// most often the line break ending the file the secret was read from.
var ErrSecretSpace = errors.New("begins or ends with white space, or holds a control character (a line break ending the file it came from?)")

// CheckSecret accepts a plaintext secret of at least MinSecretBytes bytes.
// name says where the secret was given ("-push.token / HEADROOM_PUSH_TOKEN",
// "push.tokens[0].token"); the error names it and the secret's length,
// never the secret. An empty value is refused too: callers check a secret
// only when it is set. Length is all that can be measured: a long secret
// may still be guessable (a word repeated), so the docs ask for random
// bytes. A secret given as its SHA-256 (TokenDigest) cannot be measured and
// is not checked. A secret with white space around it or a control
// character in it is refused too (ErrSecretSpace): it could never be sent.
func CheckSecret(name, value string) error {
	if err := secretLength(value); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// secretLength is CheckSecret's refusal without the name, for the file's
// errors, which carry the field apart.
func secretLength(value string) error {
	if value != "" && (strings.TrimSpace(value) != value || strings.ContainsFunc(value, unicode.IsControl)) {
		return fmt.Errorf("%d bytes, %w", len(value), ErrSecretSpace)
	}
	if len(value) < MinSecretBytes {
		return fmt.Errorf("%d bytes, %w: want at least %d, random (128 bits; `openssl rand -hex 16` makes 32 characters)", len(value), ErrWeakSecret, MinSecretBytes)
	}
	return nil
}
