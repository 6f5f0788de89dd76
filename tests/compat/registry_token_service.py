#!/usr/bin/env python3
"""A token service for berth-registry's token-auth tests, on 127.0.0.1 only.

  keys DIR                 makes a CA (RSA) and an EC P-256 leaf it signs (tokens carry the
                           chain in x5c), and a self-signed RSA key (tokens name it by kid);
                           DIR/bundle.pem is the registry's rootcertbundle (CA + RSA cert)
  serve DIR PORTFILE ISSUER USERS
                           Docker's token endpoint at /token: basic auth against USERS
                           ("alice:pw:pull,push,delete,catalog bob:pw:pull"), grants the
                           requested scopes' actions the user has; x5c-signed ES256 tokens
  mint DIR                 for raw requests: reads lines "ISSUER AUD EXP_OFFSET MODE ACCESS_JSON"
                           (MODE x5c, kid, badsig or stranger: an x5c chain the bundle does
                           not trust) and prints a token for each
"""
import base64, datetime, hashlib, json, os, sys, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_for(subject, key, issuer_name, issuer_key, ca):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
         .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return b.sign(issuer_key, hashes.SHA256())


def pem(obj):
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_keys(d):
    os.makedirs(d, exist_ok=True)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = cert_for("berth test token CA", ca_key, "berth test token CA", ca_key, True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = cert_for("berth test token signer", leaf_key, "berth test token CA", ca_key, False)
    kid_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid_cert = cert_for("berth test kid signer", kid_key, "berth test kid signer", kid_key, True)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = cert_for("stranger", other_key, "stranger", other_key, True)
    for name, obj in [("ca.pem", ca), ("leaf.pem", leaf), ("leaf.key", leaf_key),
                      ("kid.pem", kid_cert), ("kid.key", kid_key), ("other.pem", other),
                      ("other.key", other_key)]:
        open(os.path.join(d, name), "wb").write(pem(obj))
    open(os.path.join(d, "bundle.pem"), "wb").write(pem(ca) + pem(kid_cert))


def load(d, name):
    data = open(os.path.join(d, name), "rb").read()
    if name.endswith(".key"):
        return serialization.load_pem_private_key(data, None)
    return x509.load_pem_x509_certificate(data)


def libtrust_kid(public_key):
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    s = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(s[i:i + 4] for i in range(0, len(s), 4))


def mint(d, issuer, aud, exp_offset, access, mode="x5c", sub="alice"):
    if mode == "kid":
        key, header = load(d, "kid.key"), {"typ": "JWT", "alg": "RS256"}
        header["kid"] = libtrust_kid(key.public_key())
    else:
        name = "other" if mode == "stranger" else "leaf"
        key = load(d, name + ".key")
        header = {"typ": "JWT", "alg": "ES256", "x5c": [
            base64.b64encode(load(d, name + ".pem").public_bytes(serialization.Encoding.DER)).decode()]}
    now = int(time.time())
    claims = {"iss": issuer, "sub": sub, "aud": aud, "exp": now + exp_offset, "nbf": now - 1,
              "iat": now, "jti": str(uuid.uuid4()), "access": access}
    signed = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
    if header["alg"] == "RS256":
        sig = key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = decode_dss_signature(key.sign(signed, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if mode == "badsig":
        sig = bytes([sig[0] ^ 1]) + sig[1:]
    return signed.decode() + "." + b64url(sig)


def serve(d, port_file, issuer, users_spec):
    users = {}
    for entry in users_spec.split():
        name, password, rights = entry.split(":")
        users[name] = (password, set(rights.split(",")))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            sys.stderr.write("token service: " + (fmt % args) + "\n")

        def do_GET(self):
            url = urlparse(self.path)
            q = parse_qs(url.query)
            if url.path != "/token":
                self.send_error(404)
                return
            user, rights = "", set()
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                if name not in users or users[name][0] != password:
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"details":"incorrect username or password"}')
                    return
                user, rights = name, users[name][1]
            access = []
            for scope in " ".join(q.get("scope", [])).split():
                typ, _, rest = scope.partition(":")
                name, _, actions = rest.rpartition(":")
                if typ == "registry" and name == "catalog":
                    granted = ["*"] if "catalog" in rights else []
                else:
                    granted = [a for a in actions.split(",") if a in rights]
                access.append({"type": typ, "name": name, "actions": granted})
            token = mint(d, issuer, q.get("service", [""])[0], 300, access, "x5c", user)
            body = json.dumps({"token": token, "access_token": token, "expires_in": 300,
                               "issued_at": datetime.datetime.now(datetime.timezone.utc).isoformat()})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "keys":
        make_keys(args[0])
    elif cmd == "serve":
        serve(*args)
    elif cmd == "mint":
        for line in sys.stdin:
            issuer, aud, exp_offset, mode, access = line.split(None, 4)
            print(mint(args[0], issuer, aud, int(exp_offset), json.loads(access), mode))
