"""Pieces shared by the PyKMIP client scripts of the integration tests."""

import datetime
import ssl


def use_modern_tls(proxy, ca, cert, key, server_hostname=None, tls12_only=False):
    """Replace PyKMIP 0.10's socket setup with a modern SSLContext.

    PyKMIP 0.10 opens its socket with ssl.wrap_socket, which Python 3.12
    removed and which never checks the server name. The context keeps TLS 1.2+
    and the CA check, and checks the server name when one is given; the KMIP
    encoding and the rest of the client stay PyKMIP's own.
    """
    context = ssl.create_default_context(cafile=ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls12_only:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    if server_hostname is None:
        context.check_hostname = False
    if cert:
        context.load_cert_chain(cert, key)

    def create_socket(sock):
        proxy.socket = context.wrap_socket(sock, server_hostname=server_hostname)
        proxy.socket.settimeout(proxy.timeout)

    proxy._create_socket = create_socket


def rsa_material(common_name):
    """A fresh RSA-2048 key: (PKCS#8 private DER, SPKI public DER, self-signed X.509 DER)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return private_der, public_der, cert.public_bytes(serialization.Encoding.DER)


def kmip_versions(*names):
    """{"1.2": KMIPVersion.KMIP_1_2, ...} for the given version strings."""
    from kmip.core import enums

    return {n: getattr(enums.KMIPVersion, "KMIP_" + n.replace(".", "_")) for n in names}


def connection_parser(description=None):
    """An ArgumentParser with the required --host, --cert, --key, --ca and --port."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    for a in ("--host", "--cert", "--key", "--ca"):
        parser.add_argument(a, required=True)
    parser.add_argument("--port", type=int, required=True)
    return parser


def proxy_client(args, kmip_version, **extra):
    """PyKMIP's ProxyKmipClient for the parsed connection arguments, over use_modern_tls."""
    from kmip.pie import client as pie_client

    c = pie_client.ProxyKmipClient(
        hostname=args.host,
        port=args.port,
        cert=args.cert,
        key=args.key,
        ca=args.ca,
        # Keep any /etc/pykmip/pykmip.conf on the machine out of the test.
        config="client-under-test",
        kmip_version=kmip_version,
        **extra
    )
    use_modern_tls(c.proxy, args.ca, args.cert, args.key)
    return c


def stepper(steps, describe_error):
    """step(name, fn): runs fn and appends {"step", "ok", "value"} or {"step", "ok", "error"} to steps."""

    def step(name, fn):
        try:
            value = fn()
            steps.append({"step": name, "ok": True, "value": value})
            return value
        except Exception as e:  # a failed step is data for the test
            steps.append({"step": name, "ok": False, "error": describe_error(e)})
            return None

    return step
