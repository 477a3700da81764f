"""``WebBackend`` (``china-site:index:WebBackend``): ECS servers behind an internet-facing ALB, where the rules allow.

Same program-time hosting decision as :class:`components.site.Site` (``hosting: mainland`` for an unfiled domain
fails before anything is registered), same compliance tags, one explicit ``alicloud.Provider`` for the chosen region.
Children (all ``parent=self``, all through that provider):

* a VPC and four vSwitches in two zones: two for the load balancer (``lb-a``, ``lb-b``), two for the servers
  (``app-a``, ``app-b``), so that "from the load balancer" is a CIDR rule that admits nothing else;
* a security group for the servers: TCP 80 and 443 **only** from the load balancer's vSwitch CIDRs (ALB forwards
  and health-checks from addresses in its own vSwitches); no SSH, nothing open to the world;
* ECS instances from the given image, spread over the two app vSwitches, with **no** public IP;
* an internet-facing ALB (``addressType: Internet``) across both zones, a server group with the instances, an HTTPS
  listener (443) with the given certificate, and an HTTP listener (80) whose rule redirects everything to HTTPS (301).

The ALB's DNS name (``dns_name``) can be a ``Site``'s CDN origin: ``SiteArgs(origin=backend)``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi

from china_site.components.placement import (
    _ascii_domain,
    _input_error,
    decide_for,
    placement,
    refuse_caller_provider,
)
from china_site.hosting import DEFAULT_MAINLAND_REGION, HostingMode

if TYPE_CHECKING:
    import pulumi_alicloud as alicloud

    from china_site.filings import FilingRegistry
    from china_site.model import RuleOptions

__all__ = ["BACKEND_TYPE", "LB_PORTS", "WebBackend", "WebBackendArgs", "plan_subnets"]

BACKEND_TYPE = "china-site:index:WebBackend"
LB_PORTS: tuple[int, ...] = (80, 443)  # the ports the servers accept, from the load balancer only


@dataclass
class WebBackendArgs:
    """Inputs of :class:`WebBackend`.

    ``image_id``: the ECS image the servers boot. ``certificate_id``: the ID of the domain's certificate in Alibaba
    Cloud's Certificate Management Service (the HTTPS listener serves it). ``zones``: two zone IDs; default: the first
    two zones where ALB is available in the chosen region. ``app_port``: the port the servers listen on for the ALB's
    plain-HTTP forwarding (80 or 443).
    """

    domain: str
    image_id: pulumi.Input[str]
    certificate_id: pulumi.Input[str]
    hosting: HostingMode = "auto"
    mainland_region: str = DEFAULT_MAINLAND_REGION
    filings: str | FilingRegistry | None = None
    payments: bool = False
    platform: bool = False
    instance_type: str = "ecs.g7.large"
    instance_count: int = 2
    zones: tuple[str, str] | None = None
    vpc_cidr: str = "10.0.0.0/16"
    app_port: int = 80
    health_check_path: str = "/"
    user_data: pulumi.Input[str] | None = None
    today: dt.date | str | None = None
    rule_options: RuleOptions | None = None
    extra_tags: dict[str, str] = field(default_factory=dict)
    provider_args: alicloud.ProviderArgs | dict[str, Any] | None = None


def plan_subnets(vpc_cidr: str) -> dict[str, str]:
    """The four /24 vSwitch CIDRs (``lb-a``, ``lb-b``, ``app-a``, ``app-b``) inside ``vpc_cidr``.

    Pure. Raises InputError when the VPC CIDR is not a private IPv4 network of /8../22 (four /24s must fit).
    """
    where = "WebBackend args vpc_cidr"
    try:
        network = ipaddress.ip_network(vpc_cidr, strict=True)
    except ValueError as err:
        raise _input_error(
            f"vpc_cidr '{vpc_cidr}' is not a network ({err})", where=where, fix="use a CIDR such as 10.0.0.0/16"
        ) from None
    if not isinstance(network, ipaddress.IPv4Network) or not network.is_private:
        raise _input_error(
            f"vpc_cidr '{vpc_cidr}' is not a private IPv4 network",
            where=where,
            fix="use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (or a part of one)",
        )
    if not 8 <= network.prefixlen <= 22:
        raise _input_error(
            f"vpc_cidr '{vpc_cidr}' is too small for four /24 vSwitches",
            where=where,
            fix="use a /22 or larger, e.g. 10.0.0.0/16",
        )
    subnets = network.subnets(new_prefix=24)
    return {key: str(next(subnets)) for key in ("lb-a", "lb-b", "app-a", "app-b")}


class WebBackend(pulumi.ComponentResource):
    """ECS servers behind an internet-facing ALB with HTTP→HTTPS, in the region the filing rules allow.

    Outputs: ``url``, ``dns_name`` (the ALB's; a ``Site`` origin), ``hosting``, ``region``, ``load_balancer_id``,
    ``vpc_id``, ``instance_ids``.
    """

    url: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    hosting: pulumi.Output[str]
    region: pulumi.Output[str]
    load_balancer_id: pulumi.Output[str]
    vpc_id: pulumi.Output[str]
    instance_ids: pulumi.Output[list[str]]

    def __init__(self, name: str, args: WebBackendArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        where = f"WebBackend '{name}'"
        domain = _ascii_domain(args.domain, where)
        subnets = plan_subnets(args.vpc_cidr)
        if not 1 <= args.instance_count <= 50:
            raise _input_error(
                f"instance_count {args.instance_count} is out of range",
                where=f"{where} instance_count",
                fix="run between 1 and 50 instances",
            )
        if args.app_port not in LB_PORTS:
            raise _input_error(
                f"app_port {args.app_port} is not 80 or 443",
                where=f"{where} app_port",
                fix="let the servers listen on 80 (or 443) for the load balancer",
            )
        if args.zones is not None and (len(args.zones) != 2 or args.zones[0] == args.zones[1]):
            raise _input_error(
                f"zones {list(args.zones)} are not two different zones",
                where=f"{where} zones",
                fix="give two zone IDs of the region, e.g. ('cn-shanghai-e', 'cn-shanghai-f'), or leave zones out",
            )
        decision = decide_for(domain, args, where, products=("alb", "ecs"))  # Alibaba Cloud hosts the origin

        refuse_caller_provider(opts, where)
        super().__init__(BACKEND_TYPE, name, None, opts)
        self.decision = decision
        self.domain = domain
        tags, self.provider, child = placement(self, name, domain, decision, args)

        import pulumi_alicloud as alicloud

        zone_a, zone_b = self._zones(args)

        # -- network ------------------------------------------------------------------------------------------------
        self.vpc = alicloud.vpc.Network(
            f"{name}-vpc", vpc_name=f"{name}-vpc", cidr_block=args.vpc_cidr, tags=tags, opts=child
        )
        zone_of = {"a": zone_a, "b": zone_b}
        self.vswitches: dict[str, alicloud.vpc.Switch] = {
            key: alicloud.vpc.Switch(
                f"{name}-{key}",
                vswitch_name=f"{name}-{key}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                zone_id=zone_of[key[-1]],
                tags=tags,
                opts=child,
            )
            for key, cidr in subnets.items()
        }

        # -- servers: reachable from the load balancer's vSwitches only -------------------------------------------
        self.security_group = alicloud.ecs.SecurityGroup(
            f"{name}-servers-sg",
            security_group_name=f"{name}-servers",
            description=f"{domain}: HTTP/HTTPS from the load balancer only",
            vpc_id=self.vpc.id,
            inner_access_policy="Drop",
            tags=tags,
            opts=child,
        )
        self.security_group_rules = [
            alicloud.ecs.SecurityGroupRule(
                f"{name}-allow-{port}-from-{lb}",
                security_group_id=self.security_group.id,
                type="ingress",
                ip_protocol="tcp",
                port_range=f"{port}/{port}",
                cidr_ip=subnets[lb],
                policy="accept",
                nic_type="intranet",
                priority=1,
                description=f"TCP {port} from the load balancer ({lb})",
                opts=child,
            )
            for port in LB_PORTS
            for lb in ("lb-a", "lb-b")
        ]
        self.instances = [
            alicloud.ecs.Instance(
                f"{name}-server-{i}",
                instance_name=f"{name}-server-{i}",
                image_id=args.image_id,
                instance_type=args.instance_type,
                vswitch_id=self.vswitches["app-a" if i % 2 == 0 else "app-b"].id,
                security_groups=[self.security_group.id],
                internet_max_bandwidth_out=0,  # no public IP: traffic comes through the load balancer
                instance_charge_type="PostPaid",
                system_disk_category="cloud_essd",
                user_data=args.user_data,
                tags=tags,
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=self.security_group_rules)),
            )
            for i in range(args.instance_count)
        ]

        # -- load balancer --------------------------------------------------------------------------------------------
        self.load_balancer = alicloud.alb.LoadBalancer(
            f"{name}-alb",
            load_balancer_name=f"{name}-alb",
            vpc_id=self.vpc.id,
            address_type="Internet",
            address_allocated_mode="Dynamic",
            load_balancer_edition="Standard",
            load_balancer_billing_config=alicloud.alb.LoadBalancerLoadBalancerBillingConfigArgs(pay_type="PayAsYouGo"),
            zone_mappings=[
                alicloud.alb.LoadBalancerZoneMappingArgs(zone_id=zone_a, vswitch_id=self.vswitches["lb-a"].id),
                alicloud.alb.LoadBalancerZoneMappingArgs(zone_id=zone_b, vswitch_id=self.vswitches["lb-b"].id),
            ],
            tags=tags,
            opts=child,
        )
        self.server_group = alicloud.alb.ServerGroup(
            f"{name}-servers",
            server_group_name=f"{name}-servers",
            server_group_type="Instance",
            protocol="HTTPS" if args.app_port == 443 else "HTTP",
            vpc_id=self.vpc.id,
            health_check_config=alicloud.alb.ServerGroupHealthCheckConfigArgs(
                health_check_enabled=True,
                health_check_protocol="HTTPS" if args.app_port == 443 else "HTTP",
                health_check_path=args.health_check_path,
                health_check_codes=["http_2xx", "http_3xx"],
                health_check_host=domain,
            ),
            servers=[
                alicloud.alb.ServerGroupServerArgs(
                    server_id=instance.id,
                    server_ip=instance.private_ip,
                    server_type="Ecs",
                    port=args.app_port,
                    weight=100,
                )
                for instance in self.instances
            ],
            tags=tags,
            opts=child,
        )
        forward = [
            alicloud.alb.ListenerDefaultActionArgs(
                type="ForwardGroup",
                forward_group_config=alicloud.alb.ListenerDefaultActionForwardGroupConfigArgs(
                    server_group_tuples=[
                        alicloud.alb.ListenerDefaultActionForwardGroupConfigServerGroupTupleArgs(
                            server_group_id=self.server_group.id
                        )
                    ]
                ),
            )
        ]
        self.https_listener = alicloud.alb.Listener(
            f"{name}-https",
            load_balancer_id=self.load_balancer.id,
            listener_protocol="HTTPS",
            listener_port=443,
            certificates=alicloud.alb.ListenerCertificatesArgs(certificate_id=args.certificate_id),
            default_actions=forward,
            tags=tags,
            opts=child,
        )
        self.http_listener = alicloud.alb.Listener(
            f"{name}-http",
            load_balancer_id=self.load_balancer.id,
            listener_protocol="HTTP",
            listener_port=80,
            default_actions=forward,  # ALB listeners only forward by default; the rule below redirects everything
            tags=tags,
            opts=child,
        )
        self.redirect_rule = alicloud.alb.Rule(
            f"{name}-http-to-https",
            rule_name=f"{name}-http-to-https",
            listener_id=self.http_listener.id,
            priority=1,
            rule_conditions=[
                alicloud.alb.RuleRuleConditionArgs(
                    type="Path", path_config=alicloud.alb.RuleRuleConditionPathConfigArgs(values=["/*"])
                )
            ],
            rule_actions=[
                alicloud.alb.RuleRuleActionArgs(
                    order=1,
                    type="Redirect",
                    redirect_config=alicloud.alb.RuleRuleActionRedirectConfigArgs(
                        protocol="HTTPS", port="443", http_code="301"
                    ),
                )
            ],
            opts=child,
        )

        self.url = pulumi.Output.from_input(f"https://{domain}/")
        self.dns_name = self.load_balancer.dns_name
        self.hosting = pulumi.Output.from_input(decision.hosting)
        self.region = pulumi.Output.from_input(decision.region)
        self.load_balancer_id = self.load_balancer.id
        self.vpc_id = self.vpc.id
        self.instance_ids = pulumi.Output.all(*[i.id for i in self.instances])
        self.register_outputs(
            {
                "url": self.url,
                "dns_name": self.dns_name,
                "hosting": self.hosting,
                "region": self.region,
                "load_balancer_id": self.load_balancer_id,
                "vpc_id": self.vpc_id,
                "instance_ids": self.instance_ids,
            }
        )

    def _zones(self, args: WebBackendArgs) -> tuple[pulumi.Input[str], pulumi.Input[str]]:
        """The two zones: given, or the first two where ALB is available (asked through the explicit provider)."""
        if args.zones is not None:
            return args.zones[0], args.zones[1]
        import pulumi_alicloud as alicloud

        found = alicloud.alb.get_zones_output(opts=pulumi.InvokeOutputOptions(parent=self, provider=self.provider))

        def pick(result: alicloud.alb.GetZonesResult) -> list[str]:
            ids = [z.zone_id for z in result.zones]
            if len(ids) < 2:
                raise _input_error(
                    f"ALB is available in {len(ids)} zone(s) of {self.decision.region}; it needs two",
                    where="WebBackend zones",
                    fix="give two zones explicitly, or choose another mainland_region",
                )
            return ids[:2]

        picked = found.apply(pick)
        return picked[0], picked[1]
