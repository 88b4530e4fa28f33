// Package forecast predicts the next buckets of a regularly sampled metric
// (for example requests per second in 5-minute means) with calibrated 80 % and
// 95 % intervals.
//
// It is a pure core: values in, values out, no clock, no I/O, no goroutines,
// so the live forecaster, replays and the offline backtest run the very same
// code and get identical results for identical input.
//
// A Series keeps a rolling window of closed buckets (14 days of 5-minute
// buckets by default) and a fitted ensemble. At each refit it
//
//  1. cleans the window: missing buckets stay missing, long runs of exact
//     zeros inside an otherwise busy series (outages) are treated as
//     missing, and the series is log-transformed when it is non-negative so
//     daily peaks and quiet nights share one noise scale;
//  2. fits several models on all but the last days of the window (seasonal
//     naive, damped-trend exponential smoothing with daily seasonality, a
//     daily+weekly decomposition with a robust damped level on the
//     remainder, and a Prophet-class regression: piecewise-linear trend
//     with changepoints plus daily and weekly Fourier terms by ridge least
//     squares, with an autoregressive correction of its residual);
//  3. runs every model forward through the held-out days, forecasting from
//     every bucket, and weights the models by their out-of-sample error;
//  4. takes the quantiles of the ensemble's held-out errors per horizon step
//     as the 80 % and 95 % intervals, so coverage is calibrated per step;
//  5. refits the models on the whole window for the final forecast.
//
// Between refits the models are only advanced bucket by bucket (a few
// operations each), which keeps thousands of live series cheap.
//
// The package also holds what the offline evaluation shares with the live
// path: resampling of per-minute samples into bucket means (Resample), the
// backtest origins (Origins) and the scores (MASE, sMAPE, interval coverage
// and width; see Scorer).
package forecast
