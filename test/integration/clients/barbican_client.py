#!/usr/bin/python3
"""Replay OpenStack Barbican's KMIP secret store flow with PyKMIP's ProxyKmipClient.

Barbican (barbican/plugin/kmip_secret_store.py) speaks KMIP 1.2 through
kmip.pie.client.ProxyKmipClient with a client certificate and a
username/password Credential in every request header. It Creates and
Registers objects named with random UUIDs, sets Operation Policy Name,
Gets them while still Pre-Active (it never Activates) and Destroys them.

Prints one JSON object: {"ok": bool, "steps": [{"step", "ok", "error"?}...]}.
Used by barbican.test.ts.
"""

import json
import logging
import os
import sys
import uuid
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pykmip_support import connection_parser, proxy_client, rsa_material  # noqa: E402


from kmip.core import enums
from kmip.pie import objects

warnings.filterwarnings("ignore", category=DeprecationWarning)
POLICY = "default"


def make_client(args):
    return proxy_client(args, enums.KMIPVersion.KMIP_1_2, username="barbican", password="barbican-password")


def material():
    return rsa_material("barbican-test")


def main():
    parser = connection_parser()
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)

    steps = []

    def step(name, fn):
        try:
            value = fn()
            steps.append({"step": name, "ok": True})
            return value
        except Exception as e:  # a failed step is data for the test
            steps.append({"step": name, "ok": False, "error": "{0}: {1}".format(type(e).__name__, e)})
            return None

    private_der, public_der, cert_der = material()
    ids = {}
    with make_client(args) as c:
        ids["create"] = step(
            "create",
            lambda: c.create(
                enums.CryptographicAlgorithm.AES, 256, operation_policy_name=POLICY, name=str(uuid.uuid4())
            ),
        )
        pair = step(
            "create_key_pair",
            lambda: c.create_key_pair(
                enums.CryptographicAlgorithm.RSA,
                2048,
                operation_policy_name=POLICY,
                public_name=str(uuid.uuid4()),
                private_name=str(uuid.uuid4()),
            ),
        )
        if pair:
            ids["kp_public"], ids["kp_private"] = pair

        def named(obj):
            obj.names = [str(uuid.uuid4())]
            obj.operation_policy_name = POLICY
            return obj

        registered = {
            "register_symmetric": named(
                objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 256, b"\x11" * 32)
            ),
            "register_private": named(
                objects.PrivateKey(
                    enums.CryptographicAlgorithm.RSA, 2048, private_der, enums.KeyFormatType.PKCS_8
                )
            ),
            "register_public": named(
                objects.PublicKey(
                    enums.CryptographicAlgorithm.RSA, 2048, public_der, enums.KeyFormatType.X_509
                )
            ),
            "register_certificate": named(objects.X509Certificate(cert_der)),
            "register_secret": named(objects.SecretData(b"s3cr3t-passw0rd", enums.SecretDataType.PASSWORD)),
            "register_opaque": named(objects.OpaqueObject(b"opaque blob", enums.OpaqueDataType.NONE)),
        }
        expected = {}
        for name, obj in registered.items():
            expected[name] = obj.value
            ids[name] = step(name, lambda obj=obj: c.register(obj))

        for name, uid in ids.items():
            if uid is None:
                continue

            def get(name=name, uid=uid):
                obj = c.get(uid)
                if name in expected and obj.value != expected[name]:
                    raise ValueError("value differs from the registered one")
                return obj

            step("get_" + name, get)
        for name, uid in ids.items():
            if uid is not None:
                step("destroy_" + name, lambda uid=uid: c.destroy(uid))

    print(json.dumps({"ok": all(s["ok"] for s in steps), "steps": steps}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
