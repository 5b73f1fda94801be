"""Loaded by the Feast smoke processes only (PYTHONPATH): ``feast serve --metrics`` starts its Prometheus
endpoint on 0.0.0.0:8000, fixed in Feast 0.49 (feature_server.start_server). In a pod that is the
container's own port; on a shared machine the smoke run binds it to 127.0.0.1 on the free port in
``SMOKE_METRICS_PORT`` instead.

``SMOKE_HOSTS`` (``name:port=127.0.0.1:port,...``) resolves a cloud endpoint the rendered config names
(e.g. ``<account>.blob.core.windows.net:443``) to the local emulator serving it, as a hosts-file entry
would, so the config's URLs stay as rendered. Nothing else of Feast is changed."""

import os
import socket

import prometheus_client

_start_http_server = prometheus_client.start_http_server


def _loopback_metrics(port, addr="0.0.0.0", *args, **kwargs):
    return _start_http_server(int(os.environ.get("SMOKE_METRICS_PORT", port)), "127.0.0.1", *args, **kwargs)


prometheus_client.start_http_server = _loopback_metrics


_HOSTS = {}
for _entry in filter(None, os.environ.get("SMOKE_HOSTS", "").split(",")):
    _name, _target = _entry.split("=")
    _host, _port = _name.rsplit(":", 1)
    _ip, _local = _target.rsplit(":", 1)
    _HOSTS[(_host, int(_port))] = (_ip, int(_local))

if _HOSTS:
    _getaddrinfo = socket.getaddrinfo

    def _mapped(host, port, *args, **kwargs):
        target = _HOSTS.get((host, int(port) if port is not None else 0))
        if target is not None:
            return _getaddrinfo(target[0], target[1], *args, **kwargs)
        return _getaddrinfo(host, port, *args, **kwargs)

    socket.getaddrinfo = _mapped
