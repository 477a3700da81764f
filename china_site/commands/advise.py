"""``china-site advise``: Hong Kong or mainland, and what mainland hosting would still need."""

from __future__ import annotations

from typing import Annotated

import typer

from china_site.commands.common import (
    EntityOpt,
    Format,
    OriginOpt,
    _console,
    _emit_json,
    _parse_date,
    _safe,
    user_errors,
)


def advise(
    entity: Annotated[
        EntityOpt, typer.Option(help="Who would file: a PRC company, foreign-invested, foreign, or a person.")
    ] = EntityOpt.domestic,
    payments: Annotated[bool, typer.Option("--payments", help="The site takes payments (shop, paid content).")] = False,
    platform: Annotated[
        bool, typer.Option("--platform", help="A platform for third-party sellers (needs B21).")
    ] = False,
    game: Annotated[bool, typer.Option("--game", help="An online game.")] = False,
    mainland_audience: Annotated[
        bool, typer.Option("--mainland-audience/--no-mainland-audience", help="Users in mainland China.")
    ] = True,
    registrar_in_china: Annotated[
        bool,
        typer.Option(
            "--registrar-in-china/--registrar-abroad", help="Domain registered with an MIIT-accredited registrar."
        ),
    ] = True,
    domain: Annotated[str | None, typer.Option(help="Check this domain against the registry.")] = None,
    filings: Annotated[
        str | None, typer.Option(help="Filing registry: path, oss://BUCKET/KEY or s3://BUCKET/KEY.")
    ] = None,
    region: Annotated[str, typer.Option(help="Mainland region to propose.")] = "cn-shanghai",
    today: Annotated[str | None, typer.Option(help="Evaluate as of this ISO date.")] = None,
    format: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
    third_party_sellers: Annotated[
        bool | None,
        typer.Option(
            "--third-party-sellers/--no-third-party-sellers",
            help="Do third parties sell on the platform? (yes: an EDI permit, B21; no: own-goods sales, which some "
            "provinces exempt; the strict default still asks for B25 with payments)",
        ),
    ] = None,
    origin: Annotated[
        OriginOpt,
        typer.Option(
            help="What serves the site: private-bucket (CDN in front of a private OSS bucket: any provider's filing) "
            "or alibaba (an origin Alibaba Cloud hosts publicly: Alibaba Cloud must be an access provider)."
        ),
    ] = OriginOpt.private_bucket,
) -> None:
    """Hong Kong or mainland? What mainland hosting would still need."""
    from china_site import api
    from china_site.hosting import SCOPE_ZH

    with user_errors():
        advice = api.advise(
            entity=entity.value,  # type: ignore[arg-type]
            payments=payments,
            platform=platform,
            third_party_sellers=third_party_sellers,
            origin=origin.value,  # type: ignore[arg-type]
            game=game,
            mainland_audience=mainland_audience,
            registrar_in_china=registrar_in_china,
            domain=domain,
            filings=filings,
            region=region,
            today=_parse_date(today),
        )
    if format is Format.json:
        _emit_json(advice.to_json())
        return
    from rich.panel import Panel
    from rich.text import Text

    console = _console()
    colour = "green" if advice.hosting == "mainland" else "yellow"
    body = Text()
    body.append(_safe(advice.hosting), style=f"bold {colour}")
    body.append(" — region ")
    body.append(_safe(advice.region), style="bold")
    body.append(", CDN scope ")
    body.append(_safe(advice.cdn_scope), style="bold")
    body.append(_safe(f" / 地域 {advice.region}，CDN 加速区域：{SCOPE_ZH[advice.cdn_scope]}"))
    body.append("\n\n")
    if advice.required:
        needs = ", ".join(advice.required)
        body.append(_safe(f"Mainland would still need: {needs} / 中国内地部署仍需：{needs}") + "\n\n")
    body.append("\n".join(f"• {_safe(r)}" for r in advice.reasons))
    console.print(Panel(body, title="china-site advise", expand=False))
