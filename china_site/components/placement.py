"""What ``Site`` and ``WebBackend`` share: the hosting decision at program time, the explicit provider of the chosen
region (built from the caller's provider settings), the compliance tags, and user errors surfaced as one clear
message. Neither component module imports the other; both import this one."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pulumi

from china_site.errors import ChinaSiteError, InputError
from china_site.hosting import HostingDecision, HostingMode

if TYPE_CHECKING:
    import pulumi_alicloud as alicloud

    from china_site.filings import FilingRegistry
    from china_site.model import RuleOptions

_E = TypeVar("_E", bound=BaseException)


# ---------------------------------------------------------------------------------------------------------------------
# Errors: a user error must reach `pulumi up` as one clear message, not as a traceback.


def surface(err: _E) -> _E:
    """The same error, also a ``pulumi.RunError``: Pulumi's Python host prints a RunError's message alone.

    The class of the result is a subclass of ``type(err)`` (``except HostingError`` still catches it) and carries the
    same attributes and message; only the traceback is left out of ``pulumi up``'s output.
    """
    if isinstance(err, pulumi.RunError):
        return err
    cls = type(err)
    surfaced_cls: Any = type(
        cls.__name__, (cls, pulumi.RunError), {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
    )
    surfaced = surfaced_cls.__new__(surfaced_cls)
    surfaced.__dict__.update(err.__dict__)
    surfaced.args = err.args
    return surfaced


def _input_error(what: str, *, where: str, fix: str) -> InputError:
    return surface(InputError(what, where=where, fix=fix))


def _parse_today(value: dt.date | str | None, where: str) -> dt.date:
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise _input_error(
            f"today '{value}' is not an ISO date", where=where, fix="write the date as YYYY-MM-DD, e.g. 2025-06-01"
        ) from None


def _ascii_domain(domain: object, where: str) -> str:
    from china_site.domains import to_ascii

    if not isinstance(domain, str) or not domain.strip():
        raise _input_error("domain is missing", where=where, fix="give the host name visitors use, e.g. www.example.cn")
    try:
        return to_ascii(domain)
    except ChinaSiteError as err:
        raise surface(err) from None


# ---------------------------------------------------------------------------------------------------------------------
# The hosting decision (shared with WebBackend)


def decide_hosting(
    domain: str,
    mode: str,
    filings: str | FilingRegistry | None,
    *,
    today: dt.date | str | None,
    payments: bool,
    mainland_region: str,
    platform: bool = False,
    cdn_global: bool = False,
    options: RuleOptions | None = None,
    where: str = "Site args",
    products: tuple[str, ...] = ("cdn",),
) -> HostingDecision:
    """Load the registry and ask the core; every user error comes back as a RunError-capable ChinaSiteError.

    ``products``: the exposing products of the component's public resources (data/access_providers.yaml)."""
    from china_site import hosting
    from china_site.filings import FilingRegistry

    when = _parse_today(today, f"{where} today / china-site:today")
    registry: FilingRegistry | None
    try:
        if filings is None or isinstance(filings, FilingRegistry):
            registry = filings
        else:
            from china_site.filings import load_registry

            registry = load_registry(str(filings))
        return hosting.decide(
            domain,
            mode,  # type: ignore[arg-type]
            registry,
            today=when,
            payments=payments,
            platform=platform,
            mainland_region=mainland_region,
            cdn_global=cdn_global,
            options=options,
            where=where,
            products=products,
        )
    except ChinaSiteError as err:
        raise surface(err) from None


# The stack's ``alicloud:`` config keys a default provider would read, as ``alicloud.Provider`` keyword names. An
# explicit provider reads none of them by itself (Pulumi gives stack config to default providers only), so the
# component passes them on. ``region`` is not among them: the hosting decision sets it.
_STACK_PROVIDER_KEYS: dict[str, tuple[str, str]] = {  # config key → (keyword, how to read)
    "accessKey": ("access_key", "secret"),
    "secretKey": ("secret_key", "secret"),
    "securityToken": ("security_token", "secret"),
    "profile": ("profile", "str"),
    "sharedCredentialsFile": ("shared_credentials_file", "str"),
    "ecsRoleName": ("ecs_role_name", "str"),
    "credentialsUri": ("credentials_uri", "str"),
    "accountId": ("account_id", "str"),
    "accountType": ("account_type", "str"),
    "protocol": ("protocol", "str"),
    "sourceIp": ("source_ip", "str"),
    "secureTransport": ("secure_transport", "str"),
    "assumeRole": ("assume_role", "object"),
    "assumeRoleWithOidc": ("assume_role_with_oidc", "object"),
    "endpoints": ("endpoints", "object"),
    "signVersion": ("sign_version", "object"),
    "maxRetryTimeout": ("max_retry_timeout", "int"),
    "clientConnectTimeout": ("client_connect_timeout", "int"),
    "clientReadTimeout": ("client_read_timeout", "int"),
    "skipRegionValidation": ("skip_region_validation", "bool"),
}


def provider_settings(given: Any, where: str) -> dict[str, Any]:
    """The caller's provider settings as ``alicloud.Provider`` keyword arguments, without ``region``.

    ``given`` is ``provider_args`` (an ``alicloud.ProviderArgs`` or a mapping of its keyword names); when it is None,
    the stack's ``alicloud:`` config (what the default provider would have used: profile, keys, assume-role,
    endpoints …). A ``region`` among them is dropped: the component pins the region it decided on.
    """
    if given is None:
        config = pulumi.Config("alicloud")
        settings: dict[str, Any] = {}
        for key, (keyword, kind) in _STACK_PROVIDER_KEYS.items():
            value: Any
            if kind == "secret":
                value = config.get_secret(key)
            elif kind == "object":
                value = config.get_object(key)
            elif kind == "int":
                value = config.get_int(key)
            elif kind == "bool":
                value = config.get_bool(key)
            else:
                value = config.get(key)
            if value is not None:
                settings[keyword] = value
        return settings
    if isinstance(given, dict):
        settings = dict(given)
    elif type(given).__name__ == "ProviderArgs":
        settings = {k: v for k, v in vars(given).items() if v is not None}
    else:
        raise _input_error(
            f"provider_args is a {type(given).__name__}, not provider settings",
            where=f"{where} provider_args",
            fix="pass alicloud.ProviderArgs(profile=..., assume_role=...) or a dict of its keyword names",
        )
    settings.pop("region", None)
    return settings


def refuse_caller_provider(opts: pulumi.ResourceOptions | None, where: str) -> None:
    """A caller's ``alicloud`` provider in ``opts.provider``/``opts.providers`` cannot pin our region, and its
    settings cannot be read back from the resource: refuse it with the fix instead of silently ignoring it (the
    children would otherwise deploy with other credentials than the caller chose)."""
    if opts is None:
        return
    given: list[Any] = [opts.provider] if opts.provider is not None else []
    providers = opts.providers
    if isinstance(providers, dict):
        given.extend(providers.values())
    elif providers:
        given.extend(providers)
    if any(getattr(p, "package", None) == "alicloud" for p in given):
        raise _input_error(
            "an alicloud provider in opts.provider/opts.providers cannot set the region this component decided on, "
            "and its settings cannot be read back",
            where=f"{where} opts",
            fix="pass the provider's settings as provider_args=alicloud.ProviderArgs(profile=..., assume_role=..., "
            "endpoints=...); the component builds its regional provider from them",
        )


def explicit_provider(
    name: str, region: str, parent: pulumi.Resource, settings: dict[str, Any] | None = None
) -> alicloud.Provider:
    """The explicit provider for the chosen region (a child of ``parent``), with the caller's other settings."""
    import pulumi_alicloud as alicloud

    return alicloud.Provider(
        f"{name}-provider", **(settings or {}), region=region, opts=pulumi.ResourceOptions(parent=parent)
    )


class ComponentArgs(Protocol):
    """The arguments ``Site`` and ``WebBackend`` share: what the hosting decision and the compliance tags read."""

    hosting: HostingMode
    filings: str | FilingRegistry | None
    today: dt.date | str | None
    payments: bool
    platform: bool
    mainland_region: str
    rule_options: RuleOptions | None
    extra_tags: dict[str, str]
    provider_args: Any


def decide_for(
    domain: str, args: ComponentArgs, where: str, *, cdn_global: bool = False, products: tuple[str, ...] = ("cdn",)
) -> HostingDecision:
    """:func:`decide_hosting` with a component's arguments; ``products``: what the component exposes."""
    return decide_hosting(
        domain,
        args.hosting,
        args.filings,
        today=args.today,
        payments=args.payments,
        platform=args.platform,
        mainland_region=args.mainland_region,
        cdn_global=cdn_global,
        options=args.rule_options,
        where=where,
        products=products,
    )


def placement(
    component: pulumi.ComponentResource, name: str, domain: str, decision: HostingDecision, args: ComponentArgs
) -> tuple[dict[str, str], alicloud.Provider, pulumi.ResourceOptions]:
    """For a registered component: log its decision, then (tags, provider, child options) for its children — the
    compliance tags over ``extra_tags``, the explicit provider of the chosen region, and both as child options."""
    from china_site.components.tags import compliance_tags

    log_decision(decision, component)
    tags = {**args.extra_tags, **compliance_tags(domain, payments=args.payments, platform=args.platform)}
    settings = provider_settings(args.provider_args, f"{type(component).__name__} '{name}'")
    provider = explicit_provider(name, decision.region, component, settings)
    return tags, provider, pulumi.ResourceOptions(parent=component, provider=provider)


def log_decision(decision: HostingDecision, resource: pulumi.Resource) -> None:
    """The decision's reasons (info) and, for a mainland site, what is still due (warnings) in Pulumi's output."""
    for reason in decision.reasons:
        pulumi.log.info(reason, resource=resource)
    if decision.hosting == "mainland":
        for finding in decision.findings:
            pulumi.log.warn(f"[{finding.policy}] {finding.message_en}\n{finding.message_zh}", resource=resource)
