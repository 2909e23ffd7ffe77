"""The scaled run's HAProxy configuration: a balancer in front of each service."""

from __future__ import annotations

from scripts.runner.settings import SERVICES, RunSettings


def haproxy_config(settings: RunSettings) -> str:
    """One frontend per service on its public port, round robin over its replicas, each
    health-checked (`settings.health_path_of`); a statistics page on `stats_port`."""
    sections = [
        f"""# Written by scripts/run on every start: edit scripts/runner/haproxy.py instead.
# No request log: in the foreground (-db) HAProxy writes every change of a server's state
# (DOWN, UP) to the terminal by itself.
global
    maxconn 4096

defaults
    mode http
    option forwardfor
    timeout connect 2s
    timeout client 65s
    timeout server 65s
    timeout http-request 10s
    timeout http-keep-alive 30s
    timeout queue 10s
    # A request whose connection to a replica fails goes to another one.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
    default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 2

listen stats
    bind 127.0.0.1:{settings.stats_port}
    stats enable
    stats uri /
    stats refresh 2s
"""
    ]
    for service, _, _ in SERVICES:
        servers = "\n".join(
            f"    server {r.name} 127.0.0.1:{r.port} check"
            for r in settings.replica_list()
            if r.service == service
        )
        sections.append(
            f"""frontend {service}
    bind 127.0.0.1:{settings.ports[service]}
    default_backend {service}

backend {service}
    balance roundrobin
    option httpchk
    http-check send meth GET uri {settings.health_path_of(service)}
    http-check expect status 200
    # Only a request that never reached a replica is sent again, unless it is a read: a POST
    # that a replica may have carried out must not be carried out twice.
    http-request disable-l7-retry unless METH_GET || METH_HEAD
{servers}
"""
        )
    return "\n".join(sections)
