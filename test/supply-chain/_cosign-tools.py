# Independent cosign-key tooling for kb's tests (libsodium through PyNaCl, scrypt from hashlib; not kb's code):
#   decrypt KEYFILE PASSWORD OUT.der   writes the PKCS#8 private key inside a cosign encrypted key
import base64, hashlib, json, sys
import nacl.secret

def decrypt(path, password, out):
    lines = open(path).read().strip().splitlines()
    assert lines[0] in ("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----", "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----"), lines[0]
    env = json.loads(base64.b64decode("".join(lines[1:-1])))
    assert env["kdf"]["name"] == "scrypt" and env["cipher"]["name"] == "nacl/secretbox"
    p = env["kdf"]["params"]
    key = hashlib.scrypt(password.encode(), salt=base64.b64decode(env["kdf"]["salt"]), n=p["N"], r=p["r"], p=p["p"], dklen=32, maxmem=256 * p["N"] * p["r"] + (1 << 20))
    plain = nacl.secret.SecretBox(key).decrypt(base64.b64decode(env["ciphertext"]), base64.b64decode(env["cipher"]["nonce"]))
    open(out, "wb").write(plain)

if __name__ == "__main__":
    {"decrypt": decrypt}[sys.argv[1]](*sys.argv[2:])
