"""A local Alibaba Cloud for end-to-end tests: a ``pulumi-resource-alicloud`` provider plugin (gRPC, as the Pulumi
engine drives it) that records every call and keeps its resources on disk, plus pytest fixtures (moto's S3 server for
OSS objects, the environment for the ``pulumi`` CLI). A test double of the cloud, like moto: no china-site rule lives
here. See README.md in this folder.
"""
