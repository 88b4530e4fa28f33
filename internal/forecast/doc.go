// Package forecast predicts the next buckets of a regularly sampled metric
// (for example requests per second in 5-minute means) with calibrated 80 %
// and 95 % intervals.
//
// It is a pure core: values in, values out, no clock, no I/O, no goroutines,
// so the live forecaster, replays and the offline backtest run the very same
// code and get identical results for identical input.
//
// A Series keeps a rolling window of closed buckets (14 days of 5-minute
// buckets by default) and a fitted ensemble. A refit
//
//  1. cleans the window: missing buckets stay missing (every model skips
//     them), runs of at least an hour of exact zeros inside a series where
//     zeros are otherwise rare are outages and become missing too (a run
//     still going on at the end is kept: it may be a real drop), and a
//     non-negative series with few zeros (under 10 %) is modelled as
//     log(y + c), c = 5 % of its median, so that daily peaks and quiet
//     nights share one relative noise scale (on/off series and series with
//     negative values are modelled as they are);
//  2. fits the candidate models on all but the last three days: seasonal
//     naive (one day), naive, ETS(A,Ad,A) with daily seasonality, a robust
//     STL-style daily+weekly decomposition ("mstl") and its daily-only
//     variant ("stl") each with a robust damped level on the remainder, and a
//     Prophet-class regression ("prophet": piecewise-linear trend with a
//     changepoint per day plus daily and weekly Fourier terms, ridge least
//     squares) with the same level model on its residual;
//  3. runs every model forward through the held-out days without refitting,
//     forecasting from every other bucket, and weights the models whose
//     held-out error is within 15 % of the best by 1/MAE²;
//  4. takes per horizon step the quantiles of the ensemble's held-out errors
//     (recentred by half their median, which is added back to the forecast)
//     as the 80 % and 95 % intervals, scaled by how much noisier or calmer
//     the last day was than the held-out days;
//  5. keeps the weighted models as they stand after the holdout: their state
//     is current, and they are exactly the models whose errors were
//     measured (refitting them on the whole window cost a third more time
//     and did not forecast better).
//
// Outliers are handled inside the models: seasonal shapes are medians, and
// the level models clip innovations at three robust standard deviations, so
// a spike barely moves them while a lasting shift is absorbed in a few steps.
// With too little history for a holdout (under eight horizons) the series
// falls back to the level model with normal intervals from the one-step
// noise, widened; with a single bucket it forecasts that value.
//
// Between refits (every RefitEvery buckets) the models are only advanced
// bucket by bucket, a few operations each, which keeps thousands of live
// series cheap; a series too young to hold a refit point fits on its first
// observed bucket and is stepped from there.
//
// The package also holds what the offline evaluation shares with the live
// path: the one bucketing rule (Bucketer: 5-minute means stamped with the
// bucket start, a partial first or last bucket dropped), which the live
// forecaster, the backtest's resampling (Resample) and the scaling
// evaluation all use, the backtest origins (Origins) and the scores
// (SeasonalNaiveMAE, Scorer). A Series' window is allocated as buckets
// arrive, up to Window + RefitEvery.
package forecast
