// Command sdkgen writes a Pulumi package's TypeScript or Go SDK with Pulumi's own code generators
// (github.com/pulumi/pulumi/pkg/v3/codegen/nodejs and /go: what pulumi-language-nodejs and pulumi-language-go run
// for `pulumi package gen-sdk`), from the schema `pulumi package get-schema` prints.
//
// Why not `pulumi package gen-sdk --language nodejs|go`: the CLI delegates those to the language hosts
// pulumi-language-nodejs and pulumi-language-go, which tools/pulumi-engine.sh cannot build here (their Go modules,
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 and .../sdk/go/pulumi-language-go/v3, are not
// served by the Go module proxy: 403). Python and YAML go through the CLI.
//
// Usage: sdkgen nodejs|go SCHEMA.json OUT_DIR
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "sdkgen: %v\n", err)
		os.Exit(2)
	}
}

// noExternal is the schema loader of a package that references no other package: any load is an error.
type noExternal struct{}

func (noExternal) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("the schema references package %q; sdkgen loads no other package", pkg)
}

func (n noExternal) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return n.LoadPackage(d.Name, d.Version)
}

func (n noExternal) LoadPackageReference(pkg string, v *semver.Version) (schema.PackageReference, error) {
	_, err := n.LoadPackage(pkg, v)
	return nil, err
}

func (n noExternal) LoadPackageReferenceV2(
	_ context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return n.LoadPackageReference(d.Name, d.Version)
}

func run(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("usage: sdkgen nodejs|go SCHEMA.json OUT_DIR")
	}
	lang, schemaPath, out := args[0], args[1], args[2]
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	var files map[string][]byte
	switch lang {
	case "nodejs":
		pkg, err := schema.ImportSpec(spec, map[string]schema.Language{"nodejs": nodejs.Importer}, noExternal{}, schema.ValidationOptions{})
		if err != nil {
			return err
		}
		files, err = nodejs.GeneratePackage("pulumi", pkg, nil, nil, false, noExternal{})
		if err != nil {
			return err
		}
	case "go":
		pkg, err := schema.ImportSpec(spec, map[string]schema.Language{"go": gogen.Importer}, noExternal{}, schema.ValidationOptions{})
		if err != nil {
			return err
		}
		files, err = gogen.GeneratePackage("pulumi", pkg, nil)
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown language %q (nodejs or go)", lang)
	}
	for name, body := range files {
		path := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, body, 0o644); err != nil {
			return err
		}
	}
	return nil
}
