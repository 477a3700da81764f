"""china-site: the compliance core for China website filings (ICP, PSB, commercial permits).

The core never imports Pulumi; components, the policy pack and the CLI are thin adapters over it.
"""

__version__ = "0.1.0"
