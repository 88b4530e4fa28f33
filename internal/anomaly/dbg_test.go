package anomaly

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/trace"
)

func TestDbgWho(t *testing.T) {
	root := os.Getenv("DBG_NAB")
	if root == "" {
		t.Skip()
	}
	thr, _ := strconv.ParseFloat(os.Getenv("DBG_THR"), 64)
	raw, _ := os.ReadFile(filepath.Join(root, "labels/combined_windows.json"))
	var labels map[string][][]string
	json.Unmarshal(raw, &labels)
	var keys []string
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cfg := DefaultConfig()
	if c := os.Getenv("NAB_CONFIG"); c != "" {
		json.Unmarshal([]byte(c), &cfg)
	}
	tp := map[string]int{}
	fp := map[string]int{}
	for _, k := range keys {
		b, _ := os.ReadFile(filepath.Join(root, "data", k))
		var ts []time.Time
		var vs []float64
		for i, l := range strings.Split(string(b), "\n") {
			if i == 0 || l == "" {
				continue
			}
			p := strings.Split(l, ",")
			tt, _ := trace.ParseTime(p[0])
			v, _ := strconv.ParseFloat(p[1], 64)
			ts = append(ts, tt)
			vs = append(vs, v)
		}
		n := len(ts)
		prob := int(math.Min(math.Floor(0.15*float64(n)), 750))
		win := make([]int, n)
		for i := range win {
			win[i] = -1
		}
		for j, w := range labels[k] {
			a, _ := trace.ParseTime(w[0])
			bb, _ := trace.ParseTime(w[1])
			for i, tt := range ts {
				if !tt.Before(a) && !tt.After(bb) {
					win[i] = j
				}
			}
		}
		d := NewDetector(cfg)
		hit := map[int]bool{}
		var prev time.Time
		for i := range ts {
			tt := ts[i]
			if i > 0 && !tt.After(prev) {
				tt = prev.Add(time.Second)
			}
			prev = tt
			s := d.Observe(tt, vs[i])
			if i < prob || s.Value < thr {
				continue
			}
			if win[i] >= 0 {
				if !hit[win[i]] {
					hit[win[i]] = true
					tp[s.Detector]++
				}
			} else {
				fp[s.Detector]++
				if os.Getenv("DBG_FP") != "" {
					fmt.Printf("FP %s %d %s v=%.3g exp=%.3g s=%.2f %s\n", filepath.Base(k), i, ts[i].Format("01-02T15:04"), vs[i], s.Expected, s.Value, s.Detector)
				}
			}
		}
	}
	fmt.Println("first TP by detector", tp)
	fmt.Println("FP by detector", fp)
}
