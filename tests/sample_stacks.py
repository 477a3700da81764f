"""What the sample program (``__main__.py``) registers for each sample stack: the (type, name) of every resource."""

from __future__ import annotations

from china_site.provider.schema import version

# The engine's default provider of the china-site package at this version (the SDK asks for it by version).
CHINA_SITE_PROVIDER = "default_" + version().replace(".", "_")

# Pulumi.hongkong.yaml: a Site with its bucket, content and CDN.
HONGKONG_RESOURCES: frozenset[tuple[str, str]] = frozenset(
    {
        ("china-site:index:Site", "site"),
        ("pulumi:providers:alicloud", "site-provider"),
        ("alicloud:oss/bucket:Bucket", "site-bucket"),
        ("alicloud:oss/bucketAcl:BucketAcl", "site-acl"),
        ("alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock", "site-public-access-block"),
        ("alicloud:oss/bucketWebsite:BucketWebsite", "site-website"),
        ("alicloud:cdn/domainNew:DomainNew", "site-cdn"),
        ("alicloud:cdn/domainConfig:DomainConfig", "site-private-oss"),
        ("alicloud:cdn/domainConfig:DomainConfig", "site-index-rewrite"),
        # The content: the china-site provider's custom resource (named as the dynamic child it replaces).
        ("china-site:index:SiteContent", "site-content-sync"),
        ("pulumi:providers:china-site", CHINA_SITE_PROVIDER),
        # No DNS zone: the CDN domain waits for VerifyDomainOwner; the program names the TXT record to create.
        ("china-site:index:DomainOwnership", "site-domain-ownership"),
    }
)

# Pulumi.mainland.yaml sets a DNS zone as well: the record pointing the domain at the CDN, and the ownership
# verification's content lookup and TXT record at verification.<root domain>.
MAINLAND_RESOURCES: frozenset[tuple[str, str]] = HONGKONG_RESOURCES | {
    ("alicloud:dns/alidnsRecord:AlidnsRecord", "site-dns"),
    ("china-site:index:DomainVerifyContent", "site-verify-content"),
    ("alicloud:dns/alidnsRecord:AlidnsRecord", "site-dns-ownership"),
}
