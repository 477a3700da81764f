package main

import (
	"github.com/china-site/china-site/sdk/go/chinasite"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		site, err := chinasite.NewSite(ctx, "site", &chinasite.SiteArgs{
			Domain:     pulumi.String("www.mingyue-tea.cn"),
			Hosting:    pulumi.String("mainland"),
			Filings:    pulumi.String("filings.yaml"),
			ContentDir: pulumi.String("site"),
			DnsZone:    pulumi.String("mingyue-tea.cn"),
			Payments:   pulumi.Bool(true),
		})
		if err != nil {
			return err
		}
		ctx.Export("url", site.Url)
		ctx.Export("hosting", site.Hosting)
		return nil
	})
}
