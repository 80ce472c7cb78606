// Command lke-platform-state is a Pulumi program that makes the Object Storage bucket the lke-platform stacks'
// state can live in (`pulumi login s3://infra-state?...`): versioned, so an overwritten or deleted checkpoint can
// be restored; a lifecycle rule that removes old versions after noncurrentVersionDays and unfinished uploads
// after a week; private; and two access keys limited to this bucket, one that writes (CI's and the operators'
// logins) and one that only reads (backups, audits). The bucket is protected and retained on delete: losing
// it loses every stack's state. A project of its own (docs/state-bucket.md).
package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-linode/sdk/v4/go/linode"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// namespace is this project's config namespace (its name in Pulumi.yaml).
const namespace = "lke-platform-state"

// Config is the validated configuration. Defaults live in Pulumi.yaml only.
type Config struct {
	Region                string
	Bucket                string
	NoncurrentVersionDays int
}

var (
	region     = regexp.MustCompile(`^[a-z]{2}-[a-z]+$`)
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
)

// parseConfig validates every key at once; get reads a key of this project's namespace.
func parseConfig(get func(key string) string) (*Config, error) {
	var problems []string
	fail := func(key, value, allowed string) {
		problems = append(problems, fmt.Sprintf("  - %s:%s = %q is not allowed; want %s", namespace, key, value, allowed))
	}
	cfg := &Config{Region: get("region"), Bucket: get("bucket")}
	if !region.MatchString(cfg.Region) {
		fail("region", cfg.Region, "a Linode Object Storage region such as fr-par")
	}
	if !bucketName.MatchString(cfg.Bucket) {
		fail("bucket", cfg.Bucket, "a bucket name of 3..63 lowercase letters, digits and hyphens, such as infra-state")
	}
	days, err := strconv.Atoi(get("noncurrentVersionDays"))
	if err != nil || days < 1 || days > 3650 {
		fail("noncurrentVersionDays", get("noncurrentVersionDays"), "an integer in 1..3650")
	}
	cfg.NoncurrentVersionDays = days
	if len(problems) > 0 {
		return nil, fmt.Errorf("invalid stack configuration (%d problems; fix them with `pulumi config set`):\n%s",
			len(problems), strings.Join(problems, "\n"))
	}
	return cfg, nil
}

func main() { pulumi.Run(program) }

func program(ctx *pulumi.Context) error {
	cfg, err := parseConfig(func(key string) string { v, _ := ctx.GetConfig(namespace + ":" + key); return v })
	if err != nil {
		return err // before anything is registered
	}
	return register(ctx, cfg)
}

// Access keys: what each may do in the bucket, and nothing outside it.
var keys = []struct{ name, permissions, purpose string }{
	{"writer", "read_write", "pulumi login of CI and the operators"},
	{"reader", "read_only", "backups and audits"},
}

func register(ctx *pulumi.Context, cfg *Config) error {
	// Versioning and lifecycle rules go through the bucket's S3 API, which needs an access key: the provider
	// makes a temporary one for the update and removes it afterwards, so no key outlives it but the two below.
	provider, err := linode.NewProvider(ctx, "linode", &linode.ProviderArgs{ObjUseTempKeys: pulumi.Bool(true)})
	if err != nil {
		return err
	}
	bucket, err := linode.NewObjectStorageBucket(ctx, cfg.Bucket, &linode.ObjectStorageBucketArgs{
		Label:      pulumi.String(cfg.Bucket),
		Region:     pulumi.String(cfg.Region),
		Acl:        pulumi.String("private"),
		Versioning: pulumi.Bool(true),
		LifecycleRules: linode.ObjectStorageBucketLifecycleRuleArray{&linode.ObjectStorageBucketLifecycleRuleArgs{
			Id:      pulumi.String("expire-old-versions"),
			Enabled: pulumi.Bool(true),
			NoncurrentVersionExpiration: &linode.ObjectStorageBucketLifecycleRuleNoncurrentVersionExpirationArgs{
				Days: pulumi.Int(cfg.NoncurrentVersionDays),
			},
			AbortIncompleteMultipartUploadDays: pulumi.Int(7),
		}},
	}, pulumi.Provider(provider), pulumi.Protect(true), pulumi.RetainOnDelete(true))
	if err != nil {
		return err
	}
	for _, k := range keys {
		key, err := linode.NewObjectStorageKey(ctx, cfg.Bucket+"-"+k.name, &linode.ObjectStorageKeyArgs{
			Label: pulumi.String(fmt.Sprintf("%s-%s (%s)", cfg.Bucket, k.name, k.purpose)),
			BucketAccesses: linode.ObjectStorageKeyBucketAccessArray{&linode.ObjectStorageKeyBucketAccessArgs{
				BucketName:  bucket.Label,
				Region:      pulumi.String(cfg.Region),
				Permissions: pulumi.String(k.permissions),
			}},
		}, pulumi.Provider(provider), pulumi.Protect(true))
		if err != nil {
			return err
		}
		ctx.Export(k.name+"AccessKey", key.AccessKey)
		ctx.Export(k.name+"SecretKey", pulumi.ToSecret(key.SecretKey))
	}
	ctx.Export("bucket", bucket.Label)
	ctx.Export("endpoint", bucket.S3Endpoint)
	// What `pulumi login` takes, with the writer's key in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
	ctx.Export("login", pulumi.Sprintf("s3://%s?endpoint=%s&region=%s", bucket.Label, bucket.S3Endpoint, cfg.Region))
	return nil
}
