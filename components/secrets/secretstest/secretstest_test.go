package secretstest

import (
	"encoding/base64"
	"testing"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/platform-eng/lke-platform/internal/mocks"
)

// recordingTB counts failures instead of failing the test.
type recordingTB struct {
	testing.TB
	errors int
}

func (r *recordingTB) Helper()               {}
func (r *recordingTB) Errorf(string, ...any) { r.errors++ }
func (r *recordingTB) FailNow()              { r.errors++ }

func TestAssertNoPlaintextFindsLeaks(t *testing.T) {
	for name, data := range map[string]pulumi.StringMap{
		"as is":       {"k": pulumi.String("leaked-value-1234")},
		"as base64":   {"k": pulumi.String(base64.StdEncoding.EncodeToString([]byte("leaked-value-1234")))},
		"as a secret": {"k": pulumi.ToSecret(pulumi.String("prefix leaked-value-1234")).(pulumi.StringOutput)},
		"as a key":    {"leaked-value-1234": pulumi.String("x")},
	} {
		t.Run(name, func(t *testing.T) {
			rec, err := mocks.Run(t, "staging", nil, func(ctx *pulumi.Context) error {
				_, err := corev1.NewConfigMap(ctx, "leak", &corev1.ConfigMapArgs{
					Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("leak")},
					Data:     data,
				})
				return err
			})
			require.NoError(t, err)
			r := &recordingTB{TB: t}
			AssertNoPlaintext(r, rec, "leaked-value-1234")
			assert.Positive(t, r.errors)
			clean := &recordingTB{TB: t}
			AssertNoPlaintext(clean, rec, "another-value-5678")
			assert.Zero(t, clean.errors)
		})
	}
}

func TestAssertNoPlaintextInDataFindsLeaks(t *testing.T) {
	type object struct {
		Kind string         `json:"kind"`
		Spec map[string]any `json:"spec"`
	}
	for name, data := range map[string]any{
		"as is":        object{Kind: "Secret", Spec: map[string]any{"k": "leaked-value-1234"}},
		"as base64":    object{Spec: map[string]any{"k": base64.StdEncoding.EncodeToString([]byte("leaked-value-1234"))}},
		"in a list":    []object{{Kind: "x"}, {Spec: map[string]any{"k": []any{"prefix <leaked-value-1234>"}}}},
		"as a key":     map[string]any{"leaked-value-1234": "x"},
		"as a map key": object{Spec: map[string]any{"outer": map[string]string{"leaked-value-1234": "x"}}},
	} {
		t.Run(name, func(t *testing.T) {
			r := &recordingTB{TB: t}
			AssertNoPlaintextInData(r, data, "leaked-value-1234")
			assert.Positive(t, r.errors)
			clean := &recordingTB{TB: t}
			AssertNoPlaintextInData(clean, data, "another-value-5678")
			assert.Zero(t, clean.errors)
		})
	}
}
