package policy

import (
	"fmt"
	"sort"
)

// applyBudget trims decisions so that the summed replica cost per hour
// stays within the budget, taking replicas from the lowest-priority tiers
// first (never below a tier's Min).
func (a *App) applyBudget(ds []Decision) {
	if a.cfg.BudgetPerHour <= 0 {
		return
	}
	cost := 0.0
	for i, d := range ds {
		cost += float64(d.To) * a.cfg.Tiers[i].CostPerReplicaHour
	}
	if cost <= a.cfg.BudgetPerHour+1e-9 {
		return
	}
	idx := make([]int, len(ds))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(x, y int) bool {
		return a.cfg.Tiers[idx[x]].Priority < a.cfg.Tiers[idx[y]].Priority
	})
	for _, i := range idx {
		tc := a.cfg.Tiers[i]
		d := &ds[i]
		if tc.CostPerReplicaHour <= 0 || d.To <= tc.Min {
			continue
		}
		over := cost - a.cfg.BudgetPerHour
		cut := min(d.To-tc.Min, ceilDiv(over, tc.CostPerReplicaHour))
		if cut <= 0 {
			continue
		}
		wanted := d.To
		d.To -= cut
		cost -= float64(cut) * tc.CostPerReplicaHour
		switch {
		case d.To > d.From:
			d.Action = ActionUp
		case d.To < d.From:
			d.Action = ActionDown
		default:
			d.Action = ActionHold
		}
		d.Flags = append(d.Flags, "budget-capped")
		d.Reason += fmt.Sprintf("; budget cap %.2f/h: trimmed %d→%d (priority %d)", a.cfg.BudgetPerHour, wanted, d.To, tc.Priority)
		if d.Inputs != nil {
			d.Inputs["budget_cut"] = float64(cut)
		}
		if cost <= a.cfg.BudgetPerHour+1e-9 {
			return
		}
	}
}

func ceilDiv(over, unit float64) int {
	n := int(over / unit)
	if float64(n)*unit < over-1e-9 {
		n++
	}
	return n
}
