module github.com/china-site/china-site/tools/sdkgen

go 1.24

require (
	github.com/blang/semver v3.5.1+incompatible
	github.com/pulumi/pulumi/pkg/v3 v3.274.1
)
