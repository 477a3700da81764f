"""``python -m china_site.provider <engine address>``: the provider plugin."""

from china_site.provider import main

main()
