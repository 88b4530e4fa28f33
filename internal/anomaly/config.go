package anomaly

// Config holds the detector's settings: one configuration for every series.
type Config struct {
	// LevelAlpha is the smoothing of the level in the forecasters.
	LevelAlpha float64
	// SeasonAlpha is the smoothing of each seasonal slot.
	SeasonAlpha float64
	// ErrAlpha is the smoothing of the forecast error scale.
	ErrAlpha float64
	// SlowAlpha is the smoothing of the long-run value mean and spread.
	SlowAlpha float64
	// ShiftAlpha is the smoothing of the signed residual mean (level shifts).
	ShiftAlpha float64
	// VarAlpha is the smoothing of the absolute residual mean (variance change).
	VarAlpha float64
	// TailHalfLife is the half-life, in observations, of the surprise histograms.
	TailHalfLife float64
	// TailQuantile is the upper mass above which tails are extrapolated.
	TailQuantile float64
	// Decades is the -log10 tail probability that maps to a score of 1.
	Decades float64
	// AlarmLevel is the score at or above which Score.Anomaly is set.
	AlarmLevel float64
	// Holdoff is how many observations after an alarm further scores are damped.
	Holdoff int
	// HoldoffDamp multiplies scores during the holdoff.
	HoldoffDamp float64
	// Warmup is how many observations are scored zero while the detectors learn.
	Warmup int
}

// DefaultConfig returns the configuration used live and on NAB.
func DefaultConfig() Config {
	return Config{
		LevelAlpha:   0.05,
		SeasonAlpha:  0.1,
		ErrAlpha:     0.01,
		SlowAlpha:    0.002,
		ShiftAlpha:   0.1,
		VarAlpha:     0.05,
		TailHalfLife: 20000,
		TailQuantile: 0.02,
		Decades:      6,
		AlarmLevel:   0.5,
		Holdoff:      0,
		HoldoffDamp:  1,
		Warmup:       300,
	}
}
