package policy

// jumpGuard applies the jump guard (AppConfig.JumpSigmas) to the
// evaluation's base and returns the bin the tick is calibrated in: its
// level bin, the jump bin (AppConfig.JumpBin) for a fresh jump, or the
// plateau bin. Without JumpBin every such tick is a jump, its base the
// load less the noise allowance, calibrated in its level bin.
//
// A load more than JumpSigmas typical one-tick changes above the base is
// either a fresh jump (above its own recent level too: the jump bin's
// regime, how far a jump goes on rising) or a plateau the base lags (not
// above its recent level: the forecast, which knew nothing of a surge,
// drags the blended base below a load that has stopped rising). A plateau
// lifts the base to the recent level and is calibrated apart, in the
// plateau bin (with the jump bin's window, JumpLead, on a 3-minute tier,
// the whole lead window on a long-lead one, and the jump bin's least
// calibration). Taken for jumps, the ticks of a surge the forecast missed
// sat in the jump bin for as long as the surge lasted and were given the
// headroom of a surge's onset (on the simulated shop's spikes 19 replicas
// for a plateau needing 12; TestPlateauIsNoJump); calibrated in the level
// bins, they would have filled the high bins with a surge's ratios, where
// the ticks after a surge (the forecast then lagging high) had learned
// theirs.
func (tr *tier) jumpGuard(load float64, e *evaluation, capacity float64) int {
	bin := levelBin(e.base, capacity)
	k := tr.app.JumpSigmas
	if k <= 0 || tr.dem.diffs < 30 {
		return bin
	}
	j := load - k*tr.dem.absDiff
	if j <= e.base {
		return bin
	}
	if !tr.app.JumpBin {
		e.base, e.jump = j, true
		return bin
	}
	if j <= e.level {
		e.base = e.level
		return plateauBin
	}
	e.base, e.jump = j, true
	if tr.app.JumpFallBin && tr.dem.falling() {
		return jumpFallBin
	}
	return jumpBin
}
