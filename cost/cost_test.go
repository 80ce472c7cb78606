package cost

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestThePriceListIsComplete(t *testing.T) {
	p := Prices()
	assert.Contains(t, p.Source, "https://www.linode.com/pricing/")
	_, err := time.Parse(time.DateOnly, p.Observed)
	require.NoError(t, err, "observed is a date")
	assert.Equal(t, "USD", p.Currency)
	assert.Equal(t, Price{Monthly: 60, Hourly: 0.09}, p.HighAvailabilityControlPlane)
	id := regexp.MustCompile(`^g[0-9]+-(nanode|standard|dedicated|gpu-rtx6000)-[0-9]+$`)
	for name, tp := range p.Types {
		assert.Regexp(t, id, name)
		assert.NotEmpty(t, tp.Label, name)
		assert.Positive(t, tp.Monthly, name)
		// Linode bills hourly up to the monthly price: 720 hours (30 days) of the hourly price is about it.
		assert.InDelta(t, tp.Monthly, tp.Hourly*720, tp.Monthly*0.1, name)
	}
	// Every type the stacks use (Pulumi.yaml's defaults, Pulumi.production.yaml, Pulumi.system.yaml) is priced.
	for _, used := range []string{"g6-standard-8", "g1-gpu-rtx6000-1"} {
		assert.Contains(t, p.Types, used)
	}
}

func TestEstimate(t *testing.T) {
	e, err := Prices().Estimate(Cluster{Region: "fr-par", HighAvailability: true, Pools: []Pool{
		{Name: "baseline pool", Type: "g6-standard-8", Count: 6, Max: 10},
		{Name: "GPU pool", Type: "g1-gpu-rtx6000-1", Count: 2},
	}})
	require.NoError(t, err)
	assert.Equal(t, 6*192+2*1000+60.0, e.Monthly)
	assert.Equal(t, 10*192+2*1000+60.0, e.AtMaximum)
	assert.Equal(t, []Line{
		{Item: "baseline pool: 6 × g6-standard-8 (Linode 32 GB, $192/month)", Monthly: 1152},
		{Item: "GPU pool: 2 × g1-gpu-rtx6000-1 (Dedicated 32 GB + RTX6000 GPU x1, $1000/month)", Monthly: 2000},
		{Item: "high-availability control plane", Monthly: 60},
	}, e.Lines)
	assert.Equal(t, "$3212/month at list price (baseline pool: 6 × g6-standard-8 (Linode 32 GB, $192/month) = $1152; "+
		"GPU pool: 2 × g1-gpu-rtx6000-1 (Dedicated 32 GB + RTX6000 GPU x1, $1000/month) = $2000; "+
		"high-availability control plane = $60); up to $3980/month with every autoscaler at its maximum; prices: "+e.Prices, e.Summary())
	assert.Contains(t, e.Prices, "as of 2025-08-19")
}

func TestWhatCannotBePricedIsAnError(t *testing.T) {
	_, err := Prices().Estimate(Cluster{Region: "fr-par", Pools: []Pool{{Name: "x", Type: "g7-unknown-1", Count: 1}}})
	assert.ErrorContains(t, err, `no list price for node type "g7-unknown-1" in cost/prices.json`)
	_, err = Prices().Estimate(Cluster{Region: "br-gru", Pools: []Pool{{Name: "x", Type: "g6-standard-8", Count: 1}}})
	assert.ErrorContains(t, err, `region "br-gru" has prices of its own`)
}

func TestNothingBilledCostsNothing(t *testing.T) {
	e, err := Prices().Estimate(Cluster{Region: "fr-par"})
	require.NoError(t, err)
	assert.Zero(t, e.Monthly)
	assert.Contains(t, e.Summary(), "$0/month at list price (no Linode resource billed by this stack)")
}
