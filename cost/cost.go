// Package cost prices a stack's Linode resources at list price: its node pools, the high-availability control
// plane, the GPU pool. The prices are data (prices.json, with the page they come from and the day they were
// read), not code; the program exports a stack's estimate as an output, and the policy pack shows it in every
// preview and refuses a stack over its budget (lke-platform:monthlyBudgetUsd).
package cost

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

//go:embed prices.json
var pricesJSON []byte

// Table is the price list: per node type, and the HA control plane, in Currency.
type Table struct {
	Source                       string               `json:"source"`
	Observed                     string               `json:"observed"` // the day the source was read, YYYY-MM-DD
	Currency                     string               `json:"currency"`
	Note                         string               `json:"note"`
	HighAvailabilityControlPlane Price                `json:"highAvailabilityControlPlane"`
	RegionsWithOtherPrices       []string             `json:"regionsWithOtherPrices"`
	Types                        map[string]TypePrice `json:"types"`
}

// Price is a monthly and an hourly list price. Linode bills hourly up to the monthly price.
type Price struct {
	Monthly float64 `json:"monthly"`
	Hourly  float64 `json:"hourly"`
}

// TypePrice is the price of one node type (a Linode plan), with the plan's name on the pricing page.
type TypePrice struct {
	Label   string  `json:"label"`
	Monthly float64 `json:"monthly"`
	Hourly  float64 `json:"hourly"`
}

var prices = sync.OnceValues(func() (Table, error) {
	var t Table
	if err := json.Unmarshal(pricesJSON, &t); err != nil {
		return Table{}, fmt.Errorf("cost: prices.json: %w", err)
	}
	return t, nil
})

// Prices is the embedded price list.
func Prices() Table {
	t, err := prices()
	if err != nil {
		panic(err) // prices.json is part of the build; TestThePriceListIsComplete keeps it valid
	}
	return t
}

// Cluster is what a stack bills: its region, whether its control plane is highly available, and its pools.
type Cluster struct {
	Region           string
	HighAvailability bool
	Pools            []Pool
}

// Pool is a node pool: Count nodes of Type now, up to Max under its autoscaler (Max 0: no autoscaler).
type Pool struct {
	Name  string // what the estimate calls it: "baseline pool", "GPU pool"
	Type  string
	Count int
	Max   int
}

// Line is one item of an estimate.
type Line struct {
	Item    string  `json:"item"`
	Monthly float64 `json:"monthly"`
}

// Estimate is a stack's monthly list price: Monthly at the pools' current sizes, AtMaximum with every
// autoscaled pool at its maximum.
type Estimate struct {
	Lines     []Line  `json:"lines"`
	Monthly   float64 `json:"monthly"`
	AtMaximum float64 `json:"atMaximum"`
	Currency  string  `json:"currency"`
	Prices    string  `json:"prices"` // where the prices come from, and when they were read
}

// Estimate prices the cluster. A node type the table does not list, and a region whose prices differ from the
// core regions', are errors naming what is missing: an estimate that silently leaves a pool out is worse than
// none.
func (t Table) Estimate(c Cluster) (Estimate, error) {
	if slices.Contains(t.RegionsWithOtherPrices, c.Region) {
		return Estimate{}, fmt.Errorf("region %q has prices of its own, which cost/prices.json does not hold", c.Region)
	}
	e := Estimate{Currency: t.Currency, Prices: t.Source + ", as of " + t.Observed}
	var unknown []string
	for _, p := range c.Pools {
		price, ok := t.Types[p.Type]
		if !ok {
			unknown = append(unknown, p.Type)
			continue
		}
		monthly := float64(p.Count) * price.Monthly
		e.Lines = append(e.Lines, Line{Item: fmt.Sprintf("%s: %d × %s (%s, %s/month)", p.Name, p.Count, p.Type, price.Label, money(price.Monthly)), Monthly: monthly})
		e.Monthly += monthly
		e.AtMaximum += float64(max(p.Max, p.Count)) * price.Monthly
	}
	if len(unknown) > 0 {
		return Estimate{}, fmt.Errorf("no list price for node type %s in cost/prices.json (prices of %s); add it from %s",
			strings.Join(quoted(unknown), ", "), t.Observed, t.Source)
	}
	if c.HighAvailability {
		e.Lines = append(e.Lines, Line{Item: "high-availability control plane", Monthly: t.HighAvailabilityControlPlane.Monthly})
		e.Monthly += t.HighAvailabilityControlPlane.Monthly
		e.AtMaximum += t.HighAvailabilityControlPlane.Monthly
	}
	return e, nil
}

// Summary is the estimate in one line: the total, what it is made of, the ceiling under the autoscalers and
// the prices' source.
func (e Estimate) Summary() string {
	items := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		items[i] = fmt.Sprintf("%s = %s", l.Item, money(l.Monthly))
	}
	if len(items) == 0 {
		items = []string{"no Linode resource billed by this stack"}
	}
	return fmt.Sprintf("%s/month at list price (%s); up to %s/month with every autoscaler at its maximum; prices: %s",
		money(e.Monthly), strings.Join(items, "; "), money(e.AtMaximum), e.Prices)
}

// money formats US dollars: whole dollars without cents.
func money(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("$%d", int64(v))
	}
	return fmt.Sprintf("$%.2f", v)
}

func quoted(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}
