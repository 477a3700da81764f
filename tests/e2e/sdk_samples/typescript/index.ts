import * as chinaSite from "@pulumi/china-site";

// The sample site from TypeScript: the hosting decision, registry and ownership check run in the china-site plugin.
const site = new chinaSite.Site("site", {
    domain: "www.mingyue-tea.cn",
    hosting: "mainland",
    filings: "filings.yaml",
    contentDir: "site",
    dnsZone: "mingyue-tea.cn",
    payments: true,
});

export const url = site.url;
export const hosting = site.hosting;
export const footerHtml = site.footerHtml;
