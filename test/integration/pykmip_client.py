#!/usr/bin/python3
"""Drive a KMIP server with PyKMIP (Debian's python3-pykmip 0.10) and print JSON.

Used by test/integration/pykmip.test.ts: PyKMIP is an independent KMIP
implementation, so a server that PyKMIP can talk to at every protocol version
it speaks is interoperable with at least one real client.

One TLS connection; each requested step is one KMIP message, sent at --version
or at the version given in the step (--step query@2.0).
Prints one JSON object on stdout and exits 0 when every step ran (a failed
KMIP result is data, not an error), 2 on usage errors, 1 when the connection
or a message failed; in that case the JSON carries {"ok": false, "error": ...}.
"""

import argparse
import enum
import json
import logging
import socket
import ssl
import sys
import warnings

from pykmip_support import kmip_versions, use_modern_tls

from kmip.core import enums
from kmip.core.messages import contents
from kmip.services import kmip_client

# PyKMIP 0.10 calls ssl.wrap_socket with the deprecated PROTOCOL_* constants;
# the warnings would only clutter stderr, which the test prints on failure.
warnings.filterwarnings("ignore", category=DeprecationWarning)

VERSIONS = kmip_versions("1.0", "1.1", "1.2", "1.3", "1.4", "2.0")

QUERY_FUNCTIONS = {f.name: f for f in enums.QueryFunction}


def enum_name(value):
    # PyKMIP primitives wrap an enum member in .value; payload properties
    # return the members themselves.
    if not isinstance(value, enum.Enum):
        value = value.value
    return value.name if isinstance(value, enum.Enum) else str(value)


def version_str(pv):
    return "{0}.{1}".format(pv.major, pv.minor)


def make_proxy(args):
    proxy = kmip_client.KMIPProxy(
        host=args.host,
        port=args.port,
        certfile=args.cert,
        keyfile=args.key,
        ca_certs=args.ca,
        cert_reqs="CERT_REQUIRED",
        # PROTOCOL_TLSv1_2 pins TLS 1.2, as PyKMIP's documentation suggests.
        ssl_version="PROTOCOL_TLSv1_2" if args.tls == "1.2" else "PROTOCOL_TLS",
        timeout=args.timeout,
        kmip_version=VERSIONS[args.version],
        # Keep any /etc/pykmip/pykmip.conf on the machine out of the test.
        config="client-under-test",
    )
    if args.check_hostname or not hasattr(ssl, "wrap_socket"):
        use_modern_tls(proxy, args.ca, args.cert, args.key, server_hostname=args.host, tls12_only=args.tls == "1.2")
    return proxy


def send(proxy, batch_item):
    # KMIPProxy.query/discover_versions hide the response header; the test
    # needs its protocol version, so build and send the message the same way
    # those methods do and keep the header.
    request = proxy._build_request_message(None, [batch_item])
    response = proxy._send_and_receive_message(request)
    header = response.response_header
    if len(response.batch_items) != 1:
        raise ValueError("expected 1 batch item, got {0}".format(len(response.batch_items)))
    item = response.batch_items[0]
    result = {
        "responseVersion": version_str(header.protocol_version),
        "batchCount": header.batch_count.value,
        "operation": enum_name(item.operation) if item.operation is not None else None,
        "status": enum_name(item.result_status),
        "reason": enum_name(item.result_reason) if item.result_reason is not None else None,
        "message": item.result_message.value if item.result_message is not None else None,
    }
    return item, result


def discover(proxy, offer):
    versions = None
    if offer is not None:
        versions = [contents.ProtocolVersion(*map(int, v.split("."))) for v in offer]
    item, result = send(proxy, proxy._build_discover_versions_batch_item(versions))
    payload = item.response_payload
    result["versions"] = (
        [version_str(v) for v in payload.protocol_versions] if payload is not None else []
    )
    return result


def query(proxy, functions):
    item, result = send(proxy, proxy._build_query_batch_item(functions))
    payload = item.response_payload
    if payload is not None:
        server_info = payload.server_information
        result.update(
            {
                "operations": [enum_name(o) for o in payload.operations or []],
                "objectTypes": [enum_name(o) for o in payload.object_types or []],
                "vendorIdentification": payload.vendor_identification,
                "serverInformation": (
                    bytes(server_info.data.buffer).hex() if server_info is not None else None
                ),
                "extensions": [
                    e.extension_name.value for e in payload.extension_information or []
                ],
                "profiles": len(getattr(payload, "profile_information", None) or []),
                "capabilities": len(getattr(payload, "capability_information", None) or []),
            }
        )
    return result


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True, help="CA certificate (PEM) that signed the server certificate")
    p.add_argument("--cert", help="client certificate (PEM); omit to connect without one")
    p.add_argument("--key", help="client private key (PEM)")
    p.add_argument("--version", default="1.2", choices=sorted(VERSIONS))
    p.add_argument(
        "--step",
        action="append",
        help="operation to send: discover or query, optionally @VERSION to send that message"
        " at another protocol version than --version; repeat for several (default: discover, query)",
    )
    p.add_argument(
        "--offer",
        help="comma-separated versions for Discover Versions; 'none' sends an empty payload (default)",
    )
    p.add_argument(
        "--query-functions",
        default="QUERY_OPERATIONS,QUERY_OBJECTS,QUERY_SERVER_INFORMATION",
        help="comma-separated PyKMIP QueryFunction names",
    )
    p.add_argument("--tls", choices=["auto", "1.2"], default="auto", help="TLS version to offer")
    p.add_argument("--check-hostname", action="store_true", help="verify the server certificate name")
    p.add_argument("--timeout", type=int, default=10)
    p.add_argument("--list-versions", action="store_true", help="print the versions PyKMIP speaks and exit")
    args = p.parse_args(argv)
    if bool(args.cert) != bool(args.key):
        p.error("--cert and --key go together")
    return args


def main(argv):
    if "--list-versions" in argv:
        print(json.dumps({"versions": sorted(VERSIONS)}))
        return 0
    args = parse_args(argv)
    offer = None
    if args.offer and args.offer != "none":
        offer = [v for v in args.offer.split(",") if v]
    try:
        functions = [QUERY_FUNCTIONS[f] for f in args.query_functions.split(",") if f]
    except KeyError as e:
        print("unknown query function {0}".format(e), file=sys.stderr)
        return 2
    steps = []
    for spec in args.step or ["discover", "query"]:
        name, _, version = spec.partition("@")
        version = version or args.version
        if name not in ("discover", "query") or version not in VERSIONS:
            print("bad --step {0}".format(spec), file=sys.stderr)
            return 2
        steps.append((name, version))

    out = {"ok": False, "requestVersion": args.version, "steps": []}
    proxy = make_proxy(args)
    try:
        proxy.open()
        out["tlsVersion"] = proxy.socket.version()
        for name, version in steps:
            # PyKMIP encodes and decodes each message at proxy.kmip_version.
            proxy.kmip_version = VERSIONS[version]
            if name == "discover":
                result = discover(proxy, offer)
            else:
                result = query(proxy, functions)
            out["steps"].append({"step": name, "requestVersion": version, **result})
        out["ok"] = True
    except (OSError, EOFError, ssl.SSLError, socket.timeout) as e:
        out["error"] = {"kind": "connection", "type": type(e).__name__, "message": str(e)}
    except Exception as e:  # decoding failures are findings: report them
        out["error"] = {"kind": "protocol", "type": type(e).__name__, "message": str(e)}
    finally:
        proxy.close()
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    # PyKMIP logs a missing config file and connect errors; the JSON says it all.
    logging.disable(logging.ERROR)
    sys.exit(main(sys.argv[1:]))
