// Package trace reads time-series traces from CSV files: a header row naming a
// timestamp column and one or more value columns, then one row per sample.
//
// It is the one reader behind every offline command (forecast backtests, the
// scaling simulation, NAB runs) and the collector's trace source, so they all
// accept and reject the same inputs. Timestamps may be RFC 3339 or the NAB
// form "2006-01-02 15:04:05" (read as UTC). Rows must be in strictly
// increasing time order; values must be finite numbers.
package trace
