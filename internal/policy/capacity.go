package policy

// capacityFit learns a replica's capacity online from ticks of load per
// ready replica x and cpu utilisation y, by least squares on y = a + x / c
// with exponentially decayed sums: a is the idle utilisation and c the load
// a replica serves at 100 %. While the load has not varied enough to fit a
// slope it falls back to the line through the origin, c = Σx / Σy.
type capacityFit struct {
	n                    int
	s1, sx, sy, sxx, sxy float64
}

// minCapacityTicks is how many ticks the fit needs before it answers.
const minCapacityTicks = 5

func (f *capacityFit) add(x, y float64) {
	k := 1 - learnAlpha
	f.s1 = f.s1*k + 1
	f.sx = f.sx*k + x
	f.sy = f.sy*k + y
	f.sxx = f.sxx*k + x*x
	f.sxy = f.sxy*k + x*y
	f.n++
}

// capacity returns the fitted capacity and whether there is one.
func (f *capacityFit) capacity() (float64, bool) {
	if f.n < minCapacityTicks || f.sy <= 0 || f.sx <= 0 {
		return 0, false
	}
	den := f.s1*f.sxx - f.sx*f.sx
	// Require the load to have spread by at least 5 % of its mean.
	if den > 0.0025*f.sx*f.sx {
		slope := (f.s1*f.sxy - f.sx*f.sy) / den
		if icept := (f.sy - slope*f.sx) / f.s1; slope > 0 && icept >= 0 && icept < 0.5 {
			return 1 / slope, true
		}
	}
	return f.sx / f.sy, true
}
