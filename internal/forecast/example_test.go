package forecast_test

import (
	"fmt"
	"math"
	"time"

	"github.com/headroomhq/headroom/internal/forecast"
)

// ExampleSeries feeds two weeks of a daily pattern into a live series and
// forecasts the next hour.
func ExampleSeries() {
	cfg := forecast.DefaultConfig()
	s := forecast.NewSeries(cfg)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < cfg.Window; i++ {
		day := float64(i%288) / 288
		v := 100 + 50*math.Sin(2*math.Pi*day)
		if err := s.Observe(start.Add(time.Duration(i)*cfg.Step), v); err != nil {
			fmt.Println(err)
			return
		}
	}
	pts, info, err := s.Forecast(12)
	if err != nil {
		fmt.Println(err)
		return
	}
	p := pts[0]
	fmt.Println(p.Time.Format(time.RFC3339), math.Round(p.Yhat), p.Lo80 <= p.Yhat && p.Yhat <= p.Hi80)
	fmt.Println(info.Refit, info.Trained)
	// Output:
	// 2024-01-15T00:00:00Z 100 true
	// true 4032
}
