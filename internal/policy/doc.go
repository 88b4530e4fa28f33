// Package policy is the pure scaling policy behind the decider: for every
// tier of an application it turns the current load, the ready and booting
// replica counts, the latest demand forecast and the open incidents into a
// desired replica count with a plain-language reason.
//
// For each tier the policy provisions for an upper quantile of the demand
// expected over the tier's lead time (now until a replica started now is
// ready). The quantile is calibrated online and causally: at every tick the
// policy records the base it predicts from (by default half the recent
// level, half the forecast median for the current bucket, plus any rise the
// forecast expects over the lead window; the recent level averages
// LevelWindow's worth of the load's own samples, five minutes of a
// per-minute load and five buckets of a count per 5-minute bucket, at most
// 30 minutes, TestLevelAveragesTheLoadsOwnSamples: the sixty-third round)
// and, once the window has passed, the ratio of the peak load actually
// seen in it to that base. The chosen
// quantile of recent ratios, in bins of load level, times the current base
// is the demand to provision for. Calibrating on realised peaks makes the
// headroom follow each trace's own noise: wide on bursty traffic, thin on
// smooth traffic. It never goes below what the current
// load needs (the reactive floor), scales down only after the wanted count
// has stayed lower for a stabilisation window, and moves through an explicit
// state machine with cool-downs.
//
// The skill selector (AppConfig.SkillQuantiles, on in DefaultAppConfig)
// picks each tier's operating point by realised skill against the
// Kubernetes HPA rule, causally, on the tier's own traffic. Beside the live
// policy it runs shadow copies of it at the tier's quantile and at each
// SkillQuantiles, each with the full and the short (ShortStabilization)
// scale-down window (on a tier with a lead longer than 3 minutes also
// with none beyond the tick), and shadow HPA rules at targets 0.4–0.9
// (every 0.1; every 0.05 on a tier with a lead longer than 3 minutes,
// TestSkillLongLeadCandidatesAndCurve), every shadow
// on a simulated cluster of the tier's lead time (the replicas serving at a
// tick are the fewest decided over the lead time plus one tick, exactly as
// the evaluation's cluster; TestSkillShadowClusterMatchesSimulator; and
// each candidate's shadow decides what the tier pinned to that candidate
// decides, tick for tick, through a flat run under the outage hold too,
// which each shadow applies to its own count, except on a load
// incident's urgent count, which acts on the live count only, and the
// outage hold's bridge, which stretches the live window only;
// TestSkillCandidateShadowsMatchPinnedRuns). It
// keeps exponentially weighted rates of each shadow's under-provisioned
// ticks, unserved load and replicas paid for, over a week on a tier with
// a 3-minute lead and over as many lead windows on a longer one (19.25
// days on a 10-minute tier: its misses come in runs of up to a lead
// window, so a week holds too few of them to tell skill from noise;
// TestSkillMemoryScalesWithTheLead), places each
// policy candidate on the HPA shadows' cost/quality curve at its own cost,
// and runs the candidate with the smallest worse-of-two ratio to HPA there
// (after a day of history, switching only for a 10 % better ratio, on a
// tier with a lead longer than 3 minutes to a costlier candidate only for
// a ratio better by a margin that shrinks with the days on which each of
// the two candidates missed: one standard error of the log of a ratio of
// two counts, so the margin stays below 1
// (TestSkillCostlierSwitchNeedsEvidence), paired, since the shadows run on
// the same ticks and mostly miss on the same days (the days only one of
// them missed set the bound; TestSkillPairedMargin), or for a 10 % better
// ratio once the costlier candidate has done better than the running one
// on more whole days than chance explains (each day after the warm-up
// rated on its own mean rates, at the scale the rates are read at,
// TestSkillDaysRatedAtTheRatesScale; the log of the ratio of the days
// each won, one added to each, beyond one standard error of it): where
// every candidate misses on every day, as on the batch family's
// databases, the margin stays at its floor while which of them missed
// less, day after day, is the evidence
// (TestSkillCostlierSwitchOnDaysWon; package scaleeval's forty-first
// round), such a tier starting at its
// cheapest candidate, the lowest quantile without a hold, rather than the
// configured point (TestSkillLongLeadStartsCheapest); on a 3-minute tier
// to a longer scale-down window only for a ratio better by the same
// margin, such a tier starting at the configured quantile with the short
// window (TestSkillLongerWindowNeedsEvidence: a 15-minute window chosen
// on one day of evidence cost the shop's fronts against HPA), and leaving
// that start at all only for a ratio better by the same margin
// (TestSkillLeavingTheStartNeedsEvidence: the first days are rated on a
// young calibration, and a decider rebuilt from its lookback replays
// such a day, internal/stagetest's TestDeciderLookbackRebuild), and
// never to a candidate costlier than the costliest HPA shadow). So the
// same configuration holds replicas long where bursts cluster (NASA,
// ClarkNet), releases them early where bursts are isolated (the simulated
// shop) and moves its headroom where the HPA rule is weak or strong. It
// replaces the adaptive hold below when on. Its curve is a chord between
// the shadows' targets: where HPA's curve has a knee between two of them
// (the surges app's database, between 0.85 and 0.80) the chord lies above
// it, and the selector believes it wins (0.86–0.93 of the chord) where
// the evaluation found it losing (1.084, before JumpLead). On a long-lead
// tier the shadows at the midpoints halve the chord's step to the
// evaluation's (scaleeval's seventeenth and twenty-sixth rounds;
// TestSkillFinerCurveDoesNotOverrateTheKnee); a 3-minute tier keeps the
// coarser curve, which read finer cost ClarkNet its cross-validated goal.
// Candidates guarded by the HPA
// rule, a shadow at 0.85 (and 0.95), and a scale-down margin (a
// hysteresis on the way down, stretched by the lead) were tried against
// that and left out; internal/scaleeval/EXPERIMENTS.md (the sixth round)
// has the figures.
//
// Guards make the policy at least as good as a reactive controller where
// its forecasts and calibration do not help (all causal, all off in the zero
// AppConfig; DefaultAppConfig turns on the ramp, jump, seasonal,
// hour-phase and weekly guards, the rise bin and the outage hold):
//
//   - the reactive floor: never fewer replicas than the current load needs;
//   - the ramp guard (RampSigmas): when the load rose in each of the last
//     two ticks by more than RampSigmas typical one-tick changes (an
//     exponentially weighted mean absolute change), the rise beyond that
//     noise allowance is carried on over the lead window, but for at most
//     RampLead (3 minutes) past the tick, so a surge that ramps within
//     minutes is met at its pace rather than after it (a step, which
//     rises once, is left to the floor) and a tier with a long boot does
//     not buy eleven minutes of a ramp that a surge of a few minutes never
//     brings (its next decisions follow a ramp that goes on);
//   - the adaptive hold (ShortStabilization, HoldWorth; used when the
//     skill selector is off): the policy checks, causally, what keeping
//     replicas for the full stabilisation window buys over keeping them for
//     a short one (misses the realised peaks would have caused, against the
//     extra replicas) and scales down after the short window while the long
//     one does not pay;
//   - a jump guard (JumpSigmas, JumpBin) that lifts the base to a jumped
//     load at once and calibrates such ticks apart, those whose load fell
//     since the tick before (a burst past its peak) apart from those still
//     rising when JumpFallBin is on (off by default: it made the shop's
//     web tier lose to HPA). The jump bin learns how far a fresh jump
//     goes on rising over the lead window, but no further than JumpLead
//     (3 minutes, the ramp guard's RampLead) past the tick: on a tier
//     with a 10-minute boot a decision taken at a jump serves only after
//     the lead time, the decisions of the next few ticks land minutes
//     after it, and a ratio learned over the whole 11 minutes lets the few
//     jumps that were a surge's onset give every later small jump (a rise
//     inside a surge) replicas for a multiple of its load. Only a fresh
//     jump, above its own recent level too, is a jump: a load the base
//     lags on a plateau (the forecast, which knew nothing of a surge,
//     dragging the blended base below a load that stopped rising) has its
//     base lifted to the recent level and is calibrated in a plateau bin
//     of its own; taken for jumps, the ticks of the simulated shop's
//     spikes kept the headroom of a spike's onset for as long as the
//     spike lasted (19 replicas for a plateau needing 12, HPA holding 14).
//     On a long-lead tier (a database) the plateau bin learns over the
//     whole lead window, which its decisions serve, and a fresh jump that
//     lands a level bin's width (×2) or more above a tick's base, into a
//     higher bin, ends the windows of the level-bin ticks before it,
//     unless the seasonal memory saw such a rise at this time of day on
//     every day it remembers so far (a daily sale is learned, a random
//     job is not): learned in the level bins, random jobs' onsets stood a
//     job's replicas at the background between jobs, and the selector
//     could not afford the upper quantiles a job's plateau needs (the
//     batch family's databases; the thirty-sixth round of
//     internal/scaleeval's EXPERIMENTS.md);
//   - the rise bin (RiseBin, 0.3): a tick whose forecast expects the
//     load to rise over the lead window by more than 30 % of the blended
//     base, and by more than five typical one-tick changes (a surge the
//     forecast knows of: a daily flash sale, a nightly job), is
//     calibrated in a bin of its own, learned over the whole lead window
//     (its level bin's ratios serve until it holds 30). A surge that
//     recurs at a known time need not recur at a known size, so how far
//     its peak lands from the forecast's rise is far wider than the noise
//     around a flat forecast that the level bins learn; pooled with them,
//     a surge bigger than forecast found a 10-minute tier short for its
//     whole lead window. The noise test keeps a load whose noise is of
//     the order of its level (social-5m) out of it;
//   - the seasonal guard (SeasonalPeaks): the policy remembers the peak of
//     every minute of the last two days and never provisions below the
//     current level times the smallest, over those days, of the rise seen
//     over the lead window at this time of day, so a daily content drop, a
//     nightly job or a scheduled match is met as it starts instead of
//     after; a rise seen on only one day (a random burst) is not expected
//     again;
//   - the hour-phase guard (PhasePeaks), from the same memory: never
//     below the current level times the rise seen at this minute of the
//     hour, give or take two minutes, in at least eight of the last 24
//     hours, once that rise exceeds five typical one-tick changes, so
//     bursts that recur near the same minute of the hour (posts scheduled
//     on the hour) are met as they start; random bursts and noise almost
//     never recur so and leave it idle. A day of hours rather than the
//     last few lets yesterday's daytime hours vouch for this morning's
//     first bursts, and a third of them suffices for bursts that skip
//     some hours. It checks its own word: each expectation is scored
//     against the peak that came, and the guard acts only while at least
//     three in ten of the recent ones (exponentially weighted, about ten)
//     came true (a burst jittered by minutes meets only some of the ticks
//     that expected it), so a recurring rise the calibration already
//     covers or that stopped coming costs nothing for long;
//   - the weekly guard (WeeklyRises), on a tier whose lead window is
//     longer than a 3-minute tier's (a database): the policy remembers,
//     for every 5-minute bucket of the last two weeks, the largest rise
//     over the lead window that a tick of it saw (the peak over the window
//     to the level at the tick) as a 4-bit code (0 under a level bin's
//     width, ×2; above it quarter-bin steps, rounded down; 2 KB), and
//     never provisions below the current level times the smaller of the
//     two weeks' rises at this time of the week when each came to ×2 or
//     more, beyond five typical one-tick changes: a weekly match seen in
//     each of the last two weeks is met as it starts, while a random
//     launch or spike, seen in one week, is not expected again
//     (TestWeeklyGuardMeetsATwiceSeenSurge). It stands aside where the
//     seasonal memory saw a rise of ×2 at this time of day on any
//     remembered day, over a lead window either side of the tick and a
//     bucket more ahead (what the bucket's code covers): a daily sale
//     recurs weekly too, and is the seasonal guard's
//     (TestWeeklyGuardLeavesADailyRise; the fifty-sixth and fifty-seventh
//     rounds of internal/scaleeval's EXPERIMENTS.md). With WeeklySchedule
//     it also expects a rise seen a week ago alone where the same time of
//     day rose on other remembered days, more of them than the tier's own
//     share of rising buckets explains by chance (fewer than one such
//     coincidence a week expected; TestWeeklyScheduleAgainstChance), and
//     acts on such a schedule only where the last one tested at that time
//     of day within the memory came (its bucket kept a rise of ×2): a
//     first coincidence is tested without being acted on and a schedule
//     that missed is dropped, 2 bits a bucket beside the codes
//     (TestWeeklyScheduleMeetsTheSecondWeek, TestWeeklyScheduleMustVerify,
//     TestWeeklyScheduleVerdicts); every rise it keeps and expects is then
//     read against the level at its 5-minute bucket's first tick (the
//     fifty-eighth to sixtieth rounds: surges-s1's database no longer loses
//     cross-validated);
//   - the outage hold (OutageHold): while the load repeats the very same
//     value for five of its samples (five ticks, or five buckets of a load
//     counted in buckets and held for their ticks) at next to nothing for
//     the replicas held (a metrics feed or the traffic cut off upstream,
//     not demand), the policy keeps its replicas, for at most six hours by default, so the
//     traffic that comes back at once finds them ready (ClarkNet's
//     two-hour outage, NASA's night-time gaps); while such a line is in
//     progress and not yet recognised, a scale-down window shorter than
//     the recognition (the skill selector's 3-minute start on a front)
//     is stretched to it, so the replicas are still there when it is
//     (TestOutageHoldBridgesAShortWindow); a sparse count load, under one
//     count a sample at its recent level (the mean of its last eight runs
//     not taken for flat lines, counted in its own resolution, the
//     smallest step between its values), repeats its zeros as a matter of
//     course, and a run of them is a flat line only once it is as
//     unlikely under that level's Poisson law as five samples of a load
//     at one count (e^-5), the bridge only once it is as unlikely as one
//     (e^-1): at one count a sample or more nothing changes, so NASA's
//     and ClarkNet's outages are recognised as before, while social-5m's
//     night-time zeros are not held (TestOutageHoldRefusesASparseLoadsZeros,
//     TestFlatLineReadsASparseLevel; 72 bytes a tier);
//   - optional: a fixed least headroom (ReactiveHeadroom), and an HPA guard
//     (HPAGuardTarget) that runs the Kubernetes rule beside the policy and
//     never wants fewer replicas than it. The trace suite (package
//     scaleeval) chose among the settings by leave-one-family-out; see its
//     package documentation for the table.
//
// Memory is bounded and grows with the data: the calibration keeps the
// last CalibrationWindow of ratios as 16-bit log codes, each in its arrival
// ring and in its level bin's sorted slice (about 5 bytes a ratio; the
// rare pooled quantile selects across the bins rather than keep a third,
// pooled copy, which cost 2 bytes a ratio more and its slack), the
// seasonal guard two days of minute peaks as 16-bit log codes too (about
// 6 KB), the weekly guard two weeks of 5-minute buckets as 4-bit codes on
// a long-lead tier (about 2 KB, and 1 KB of the weekly schedule's 2-bit
// verdicts), and the skill selector a few numbers per shadow plus its
// last stabilisation window of wants and lead time of decisions, so a tier
// that has seen a week of one-minute ticks holds about 34 KB
// (TestMemoryPerTier: 33,684 bytes with GOMAXPROCS=1 on 2026-12-07, about
// 34,400 with 2; 33,811 once the pooled copy went, 44,746 with it, 44,196
// before the weekly schedule of the fifty-eighth to sixtieth rounds,
// 43,188 before the weekly guard, 42,175 before the days won of the
// forty-first round and the scratch that keeps placing a candidate on the
// curve from allocating, 40,103 before a long-lead tier had its no-hold
// candidates and finer HPA curve; budget 64 KB; the decider service
// 52,947 B a tier in internal/membudget's TestBudget with GOMAXPROCS=1 on
// 2026-12-07, about 53,300 with 2 (membudget's table); 52,597 once the
// pooled copy went, 63,493 with it, 62,869 before the weekly schedule,
// 62,303 before the weekly guard).
//
// Downstream tiers (cache, database) learn the ratio of their load to their
// upstream tier's load online, so a forecast web surge is propagated to them
// over their own, longer lead times. A tier with a longer lead weights the
// forecast more against the recent level (ForecastWeightLead: the level's
// share 1 − w holds for a 3-minute lead and shrinks geometrically beyond
// it, 0.25 becoming 0.55 at the database's 10 minutes), since the recent
// level says less about a farther window. With UpstreamSurges (on in
// DefaultAppConfig) a tier behind another also carries on the ramp its
// upstream's ramp guard carried on, scaled by the learned ratio, when
// that is the larger: where a back tier's load follows the front's with a delay (a
// queue, a batch behind the web), the front's ramp provisions it before
// its own load moves. In the simulated shop every tier's load moves in
// the same minute as the web's (package shop: cache operations and
// database queries are the same minute's web requests times a ratio), so
// the back tier's own ramp guard already sees every rise and the option
// changes next to nothing there (the database of seed 2 moves by 0.002
// of HPA's figures, seed 1 not at all). The same holds for the trace
// suite's surges app (package scaleeval: the surges family's traces as
// the web tier, the shop's cache and database derived from it): nothing
// forecasts its weekly matches (the forecaster's median is flat before
// them and the seasonal guard remembers two days), so its database beats
// HPA by less than the web. Behind a front whose surges the forecast
// does know (scaleeval's daily-sales family, a flash sale at the same
// minute every day at a size that varies), the database beats HPA by
// more than the web on unserved demand since the rise bin (above), not
// yet on under-provisioned minutes (figures in
// internal/scaleeval/EXPERIMENTS.md, the fifteenth round). A one-week
// guard (the rise seen a week ago at this time of the week, from a week
// of minute peaks) was tried and left out: a week's memory cannot tell a
// weekly match from a random launch or spike, and it made the shop's web
// tier lose to HPA; with the hour-phase guard's self-check it stood aside
// on the matches too (figures in internal/scaleeval/EXPERIMENTS.md, the
// fifth round). The weekly guard above needs the rise in each of two
// weeks, and only on a long-lead tier, whose misses a match's onset makes. A budget cap across tiers trims the
// lowest-priority tiers first. Everything is driven by event time; the same
// inputs always give the same decisions.
package policy
