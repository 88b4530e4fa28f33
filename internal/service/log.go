package service

import (
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// Version is the build's version, set with -ldflags "-X …/internal/service.Version=…".
var Version = "dev"

// NewLogger returns the JSON root logger of a service, writing to w (stderr
// when nil) at level ("debug", "info", "warn", "error").
func NewLogger(w io.Writer, serviceName, level string) (zerolog.Logger, error) {
	if w == nil {
		w = os.Stderr
	}
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Nop(), err
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	return zerolog.New(w).Level(lvl).With().Timestamp().Str("service", serviceName).Str("version", Version).Logger(), nil
}
