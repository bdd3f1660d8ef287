#!/usr/bin/python3
"""PyKMIP 0.10 drives the server's cryptographic operations; Python's
cryptography package checks every result independently.

Used by test/integration/pykmip-crypto.test.ts. Keys are registered with
known bytes (AES, HMAC) or generated here (RSA, EC), so each server result
can be recomputed or verified locally: ciphertexts are decrypted with
cryptography, signatures verified with it, MACs recomputed with hmac, and
the other direction (cryptography encrypts or signs, the server decrypts or
verifies) is exercised too.

One TLS connection, one KMIP version (--version). Prints one JSON document:
{"ok": bool, "version": "1.2", "steps": [{"step", "ok", "value"?, "error"?}]}.
"""

import hashlib
import hmac
import json
import logging
import os
import sys
import uuid
import warnings

from pykmip_support import connection_parser, kmip_versions, proxy_client, stepper

from cryptography.hazmat.primitives import hashes, padding as sym_padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from kmip.core import enums
from kmip.core import exceptions as core_exceptions
from kmip.pie import exceptions as pie_exceptions
from kmip.pie import objects

warnings.filterwarnings("ignore", category=DeprecationWarning)

VERSIONS = kmip_versions("1.2", "1.3", "1.4", "2.0")

M = enums.CryptographicUsageMask


def describe_error(e):
    if isinstance(e, (pie_exceptions.KmipOperationFailure, core_exceptions.OperationFailure)):
        return {
            "type": type(e).__name__,
            "status": getattr(e.status, "name", str(e.status)),
            "reason": getattr(e.reason, "name", str(e.reason)),
            "message": str(getattr(e, "message", None) or e),
        }
    return {"type": type(e).__name__, "message": str(e)}


def main():
    parser = connection_parser(__doc__)
    parser.add_argument("--version", required=True, choices=sorted(VERSIONS))
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)

    steps = []
    step = stepper(steps, describe_error)

    c = proxy_client(args, VERSIONS[args.version])

    tag = uuid.uuid4().hex[:12]

    def registered(obj):
        # KMIP 2.x: names are unique, and PyKMIP's default names ("Symmetric Key") are not.
        obj.names = ["crypto-" + type(obj).__name__ + "-" + uuid.uuid4().hex[:8] + "-" + tag]
        uid = c.register(obj)
        c.activate(uid)
        return uid

    with c:
        # --- AES: server encrypts, cryptography decrypts; and the reverse.
        aes_bytes = os.urandom(32)
        aes = step("register_aes", lambda: registered(objects.SymmetricKey(
            enums.CryptographicAlgorithm.AES, 256, aes_bytes, masks=[M.ENCRYPT, M.DECRYPT])))
        message = b"PyKMIP interop: 37 bytes of message!!"

        for mode_name, mode, pad in (("cbc", enums.BlockCipherMode.CBC, enums.PaddingMethod.PKCS5),
                                     ("ecb", enums.BlockCipherMode.ECB, enums.PaddingMethod.PKCS5),
                                     ("ctr", enums.BlockCipherMode.CTR, enums.PaddingMethod.NONE)):
            params = {"cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
                      "block_cipher_mode": mode, "padding_method": pad}
            iv = os.urandom(16) if mode_name != "ecb" else None

            def local_mode(iv=iv, mode_name=mode_name):
                return {"cbc": lambda: modes.CBC(iv), "ecb": lambda: modes.ECB(),
                        "ctr": lambda: modes.CTR(iv)}[mode_name]()

            def server_encrypts(params=params, iv=iv, local_mode=local_mode, mode_name=mode_name):
                data, _ = c.encrypt(message, uid=aes, cryptographic_parameters=params, iv_counter_nonce=iv)
                d = Cipher(algorithms.AES(aes_bytes), local_mode()).decryptor()
                plain = d.update(data) + d.finalize()
                if mode_name != "ctr":
                    u = sym_padding.PKCS7(128).unpadder()
                    plain = u.update(plain) + u.finalize()
                return {"length": len(data), "roundTrip": plain == message}

            def server_decrypts(params=params, iv=iv, local_mode=local_mode, mode_name=mode_name):
                plain = message
                if mode_name != "ctr":
                    p = sym_padding.PKCS7(128).padder()
                    plain = p.update(plain) + p.finalize()
                e = Cipher(algorithms.AES(aes_bytes), local_mode()).encryptor()
                data = e.update(plain) + e.finalize()
                return c.decrypt(data, uid=aes, cryptographic_parameters=params, iv_counter_nonce=iv) == message

            step("aes_" + mode_name + "_server_encrypts", server_encrypts)
            step("aes_" + mode_name + "_server_decrypts", server_decrypts)

        # No parameters at all (MongoDB Enterprise's flow): the server picks the
        # mode and returns the IV it used; decrypting with that IV works.
        def default_round_trip():
            data, iv = c.encrypt(message, uid=aes)
            return {"ivLength": len(iv or b""), "roundTrip": c.decrypt(data, uid=aes, iv_counter_nonce=iv) == message}

        step("aes_default_round_trip", default_round_trip)

        # --- HMAC: the server's MAC equals hmac's.
        mac_bytes = os.urandom(32)
        mac_key = step("register_hmac", lambda: registered(objects.SymmetricKey(
            enums.CryptographicAlgorithm.HMAC_SHA256, 256, mac_bytes, masks=[M.MAC_GENERATE, M.MAC_VERIFY])))

        def server_mac():
            _, mac = c.mac(message, uid=mac_key, algorithm=enums.CryptographicAlgorithm.HMAC_SHA256)
            return mac == hmac.new(mac_bytes, message, hashlib.sha256).digest()

        step("hmac_sha256_matches", server_mac)

        # --- RSA: PSS and PKCS#1 v1.5 signatures verified here; OAEP ciphertext decrypted here.
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        priv_der = rsa_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
        pub_der = rsa_key.public_key().public_bytes(serialization.Encoding.DER,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
        rsa_priv = step("register_rsa_private", lambda: registered(objects.PrivateKey(
            enums.CryptographicAlgorithm.RSA, 2048, priv_der, enums.KeyFormatType.PKCS_8,
            masks=[M.SIGN, M.DECRYPT])))
        rsa_pub = step("register_rsa_public", lambda: registered(objects.PublicKey(
            enums.CryptographicAlgorithm.RSA, 2048, pub_der, enums.KeyFormatType.X_509,
            masks=[M.VERIFY, M.ENCRYPT])))

        for pad_name, pad_enum, local_pad in (
            ("pss", enums.PaddingMethod.PSS,
             lambda: padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)),
            ("pkcs1", enums.PaddingMethod.PKCS1v15, lambda: padding.PKCS1v15()),
        ):
            params = {"cryptographic_algorithm": enums.CryptographicAlgorithm.RSA,
                      "hashing_algorithm": enums.HashingAlgorithm.SHA_256, "padding_method": pad_enum}

            def server_signs(params=params, local_pad=local_pad):
                sig = c.sign(message, uid=rsa_priv, cryptographic_parameters=params)
                rsa_key.public_key().verify(sig, message, local_pad(), hashes.SHA256())  # raises if bad
                return len(sig)

            def server_verifies(params=params, local_pad=local_pad):
                sig = rsa_key.sign(message, local_pad(), hashes.SHA256())
                good = c.signature_verify(message, sig, uid=rsa_pub, cryptographic_parameters=params)
                bad = c.signature_verify(message + b"!", sig, uid=rsa_pub, cryptographic_parameters=params)
                return [good.name, bad.name]

            step("rsa_" + pad_name + "_server_signs", server_signs)
            step("rsa_" + pad_name + "_server_verifies", server_verifies)

        def oaep_server_encrypts():
            params = {"cryptographic_algorithm": enums.CryptographicAlgorithm.RSA,
                      "padding_method": enums.PaddingMethod.OAEP,
                      "hashing_algorithm": enums.HashingAlgorithm.SHA_1}
            data, _ = c.encrypt(message, uid=rsa_pub, cryptographic_parameters=params)
            plain = rsa_key.decrypt(data, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()),
                                                       algorithm=hashes.SHA1(), label=None))
            back = c.decrypt(data, uid=rsa_priv, cryptographic_parameters=params)
            return {"local": plain == message, "server": back == message}

        step("rsa_oaep_round_trip", oaep_server_encrypts)

        # --- ECDSA P-256: the server's signature verifies here.
        ec_key = ec.generate_private_key(ec.SECP256R1())
        ec_priv_der = ec_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())
        ec_priv = step("register_ec_private", lambda: registered(objects.PrivateKey(
            enums.CryptographicAlgorithm.ECDSA, 256, ec_priv_der, enums.KeyFormatType.PKCS_8,
            masks=[M.SIGN])))

        def ecdsa_server_signs():
            sig = c.sign(message, uid=ec_priv, cryptographic_parameters={
                "digital_signature_algorithm": enums.DigitalSignatureAlgorithm.ECDSA_WITH_SHA256})
            ec_key.public_key().verify(sig, message, ec.ECDSA(hashes.SHA256()))  # raises if bad
            return True

        step("ecdsa_p256_server_signs", ecdsa_server_signs)

        # --- Derive Key: PBKDF2 from a registered password, compared with cryptography's PBKDF2.
        password = b"correct horse battery staple"
        salt = os.urandom(16)
        secret = step("register_password", lambda: registered(objects.SecretData(
            password, enums.SecretDataType.PASSWORD, masks=[M.DERIVE_KEY])))

        def pbkdf2_derive():
            uid = c.derive_key(
                enums.ObjectType.SYMMETRIC_KEY, [secret], enums.DerivationMethod.PBKDF2,
                {"cryptographic_parameters": {"hashing_algorithm": enums.HashingAlgorithm.SHA_256},
                 "salt": salt, "iteration_count": 4096},
                cryptographic_algorithm=enums.CryptographicAlgorithm.AES, cryptographic_length=256)
            got = c.get(uid).value
            want = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=4096).derive(password)
            return got == want

        step("pbkdf2_derive_matches", pbkdf2_derive)

        # --- Refusals: a key without the usage, and a wrong IV length.
        def encrypt_without_usage():
            return c.encrypt(message, uid=mac_key, cryptographic_parameters={
                "cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
                "block_cipher_mode": enums.BlockCipherMode.CBC})

        step("encrypt_without_usage", encrypt_without_usage)

    print(json.dumps({"ok": True, "version": args.version, "steps": steps}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
