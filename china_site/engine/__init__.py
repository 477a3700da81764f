"""Offline engine: artifact readers (:mod:`.artifacts`) and the in-process policy-pack driver (:mod:`.driver`).

Nothing here imports Pulumi at module import time; the driver imports ``pulumi_policy`` only when it runs.
"""
