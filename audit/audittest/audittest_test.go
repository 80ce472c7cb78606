package audittest

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goodLine = `{"event":"infra_change_applied","kind":"update","result":"succeeded","version":3,"commit":"abc",` +
	`"duration_seconds":12,"resource_changes":{"create":2,"same":5},"changed":2,"start_time":"x","end_time":"y"}`

// body is a push of one stream with one entry at ts, with labels and line as given.
func body(labels, ts, line string) string {
	return `{"streams":[{"stream":` + labels + `,"values":[[` + strconv.Quote(ts) + `,` + strconv.Quote(line) + `]]}]}`
}

// The validator is only worth something if it refuses what Loki refuses: each case breaks one rule.
func TestValidatePushIsStrict(t *testing.T) {
	now := time.Now()
	ts := strconv.FormatInt(now.Add(-time.Minute).UnixNano(), 10)
	labels := `{"environment":"development","stack":"development"}`
	request := func(b string, header map[string]string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/loki/api/v1/push", strings.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Scope-OrgID", "development")
		for k, v := range header {
			r.Header.Set(k, v)
		}
		return r
	}

	push, err := ValidatePush(request(body(labels, ts, goodLine), nil), []byte(body(labels, ts, goodLine)), now)
	require.NoError(t, err)
	assert.Equal(t, "development", push.Tenant)
	assert.Equal(t, map[string]int{"create": 2, "same": 5}, push.Streams[0].Entries[0].Changes())

	for _, tc := range []struct {
		name, body string
		header     map[string]string
		want       string
	}{
		{"no tenant", body(labels, ts, goodLine), map[string]string{"X-Scope-OrgID": ""}, "no X-Scope-OrgID"},
		{"bad tenant", body(labels, ts, goodLine), map[string]string{"X-Scope-OrgID": "dev/apps"}, "not allowed in a tenant ID"},
		{"not JSON content", body(labels, ts, goodLine), map[string]string{"Content-Type": "application/x-protobuf"}, "Content-Type"},
		{"unknown field", `{"streams":[],"extra":1}`, nil, `unknown field "extra"`},
		{"labels as a string", `{"streams":[{"labels":"{a=\"b\"}","entries":[]}]}`, nil, `unknown field "labels"`},
		{"no streams", `{"streams":[]}`, nil, "no streams"},
		{"no values", `{"streams":[{"stream":{"a":"b"},"values":[]}]}`, nil, "no values"},
		{"no labels", body(`{}`, ts, goodLine), nil, "no labels"},
		{"bad label name", body(`{"argo-app":"x"}`, ts, goodLine), nil, `label name "argo-app" is not valid`},
		{"label name starting with a digit", body(`{"1env":"x"}`, ts, goodLine), nil, "is not valid"},
		{"reserved label name", body(`{"__name__":"x"}`, ts, goodLine), nil, "reserved"},
		{"empty label value", body(`{"actor":""}`, ts, goodLine), nil, "label actor is empty"},
		{"too many labels", body(`{"a":"1","b":"1","c":"1","d":"1","e":"1","f":"1","g":"1","h":"1","i":"1","j":"1","k":"1","l":"1","m":"1","n":"1","o":"1","p":"1"}`, ts, goodLine), nil, "16 labels"},
		{"timestamp as a number", `{"streams":[{"stream":{"a":"b"},"values":[[1700000000000000000,"x"]]}]}`, nil, "body:"},
		{"timestamp in seconds", body(labels, strconv.FormatInt(now.Unix(), 10), goodLine), nil, "outside"},
		{"timestamp not an integer", body(labels, "1.5e18", goodLine), nil, "not an int64"},
		{"timestamp too old", body(labels, strconv.FormatInt(now.Add(-8*24*time.Hour).UnixNano(), 10), goodLine), nil, "outside"},
		{"timestamp in the future", body(labels, strconv.FormatInt(now.Add(time.Hour).UnixNano(), 10), goodLine), nil, "outside"},
		{"three elements", `{"streams":[{"stream":{"a":"b"},"values":[["` + ts + `","x","y"]]}]}`, nil, "3 elements"},
		{"line not JSON", body(labels, ts, "infra_change_applied"), nil, "not a JSON object"},
		{"wrong event", body(labels, ts, strings.Replace(goodLine, "infra_change_applied", "deploy", 1)), nil, "event is deploy"},
		{"no commit", body(labels, ts, strings.Replace(goodLine, `"commit":"abc",`, "", 1)), nil, "commit is <nil>"},
		{"counts not integers", body(labels, ts, strings.Replace(goodLine, `"create":2`, `"create":"2"`, 1)), nil, "resource_changes.create"},
		{"duration negative", body(labels, ts, strings.Replace(goodLine, `"duration_seconds":12`, `"duration_seconds":-1`, 1)), nil, "duration_seconds"},
		{"two bodies", body(labels, ts, goodLine) + "{}", nil, "more than one JSON value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ValidatePush(request(tc.body, tc.header), []byte(tc.body), now)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLokiAnswersLikeLoki(t *testing.T) {
	l := NewLoki(t)
	ts := strconv.FormatInt(time.Now().UnixNano(), 10)
	post := func(b string) int {
		req, err := http.NewRequest(http.MethodPost, l.URL+"/loki/api/v1/push", strings.NewReader(b))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Scope-OrgID", "staging")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusNoContent, post(body(`{"environment":"staging"}`, ts, goodLine)))
	assert.Equal(t, http.StatusBadRequest, post(`{"streams":[]}`))
	assert.Len(t, l.Pushes(), 1)
	assert.Equal(t, []string{"no streams"}, l.Refused())
}

func TestSlackTakesOneLineMessages(t *testing.T) {
	s := NewSlack(t)
	post := func(path, b string) int {
		resp, err := http.Post(s.URL+path, "application/json", strings.NewReader(b))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, post(SecretPath, `{"channel":"#platform-infra","text":"one line"}`))
	assert.Equal(t, http.StatusBadRequest, post(SecretPath, `{"channel":"#platform-infra","text":"two\nlines"}`))
	assert.Equal(t, http.StatusBadRequest, post(SecretPath, `{"channel":"#platform-infra","text":"x","blocks":[]}`))
	assert.Equal(t, http.StatusBadRequest, post("/services/other", `{"channel":"#platform-infra","text":"x"}`))
	assert.Equal(t, []Message{{Channel: "#platform-infra", Text: "one line"}}, s.Messages())
	assert.Len(t, s.Refused(), 3)
}
