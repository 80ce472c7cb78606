package observability

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDashboardIsNamedForItsEnvironment(t *testing.T) {
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			d := Dashboard(env)
			assert.Equal(t, "env-"+env, d["uid"])
			assert.Equal(t, env+"-overview", d["title"])
			assert.Equal(t, []any{"environment", env}, d["tags"])
			assert.Equal(t, env+"-overview.json", DashboardFile(env))

			vars := map[string]map[string]any{}
			for _, v := range d["templating"].(map[string]any)["list"].([]any) {
				m := v.(map[string]any)
				vars[m["name"].(string)] = m
			}
			require.Contains(t, vars, "environment")
			assert.Equal(t, "constant", vars["environment"]["type"])
			assert.Equal(t, env, vars["environment"]["query"])
			require.Contains(t, vars, "namespace")
			assert.Equal(t, "$environment-.+", vars["namespace"]["allValue"], "All means every namespace of the environment, no other")
			require.Contains(t, vars, "datasource")
		})
	}
}

func TestDashboardPanelsQueryTheEnvironmentsNamespaces(t *testing.T) {
	d := Dashboard("staging")
	panels := d["panels"].([]any)
	titles := map[string]string{}
	ids := map[float64]bool{}
	for _, p := range panels {
		panel := p.(map[string]any)
		id := panel["id"].(float64)
		assert.False(t, ids[id], "panel ids are unique")
		ids[id] = true
		assert.Equal(t, map[string]any{"type": "prometheus", "uid": "${datasource}"}, panel["datasource"])
		var exprs []string
		for _, tg := range panel["targets"].([]any) {
			exprs = append(exprs, tg.(map[string]any)["expr"].(string))
		}
		require.NotEmpty(t, exprs, panel["title"])
		titles[panel["title"].(string)] = strings.Join(exprs, "\n")
	}
	for title, metric := range map[string]string{
		"Requests per second":         `nginx_ingress_controller_requests{exported_namespace=~"$namespace"}`,
		"Error ratio (5xx)":           `status=~"5.."`,
		"Pod restarts (1h)":           `kube_pod_container_status_restarts_total{namespace=~"$namespace"}`,
		"CPU: usage against quota":    `resource="limits.cpu", type="hard"`,
		"Memory: usage against quota": `resource="requests.memory", type="used"`,
		"Sample service up":           `sample_service_up{namespace=~"$namespace"}`,
		"Alerts firing":               `ALERTS{alertstate="firing"}`,
	} {
		require.Contains(t, titles, title)
		assert.Contains(t, titles[title], metric, title)
	}
}

func TestDashboardPanelsDoNotOverlap(t *testing.T) {
	type cell struct{ x, y int }
	used := map[cell]float64{}
	for _, p := range Dashboard("production")["panels"].([]any) {
		panel := p.(map[string]any)
		g := panel["gridPos"].(map[string]any)
		x, y, w, h := int(g["x"].(float64)), int(g["y"].(float64)), int(g["w"].(float64)), int(g["h"].(float64))
		assert.LessOrEqual(t, x+w, 24, "Grafana's grid is 24 wide")
		for i := x; i < x+w; i++ {
			for j := y; j < y+h; j++ {
				if other, taken := used[cell{i, j}]; taken {
					t.Fatalf("panel %v overlaps panel %v", panel["id"], other)
				}
				used[cell{i, j}] = panel["id"].(float64)
			}
		}
	}
}

func TestDashboardJSONIsDeterministic(t *testing.T) {
	first, err := DashboardJSON("development")
	require.NoError(t, err)
	for range 5 {
		again, err := DashboardJSON("development")
		require.NoError(t, err)
		require.Equal(t, first, again)
	}
	var back map[string]any
	require.NoError(t, json.Unmarshal([]byte(first), &back))
	assert.Equal(t, Dashboard("development"), back)
}
