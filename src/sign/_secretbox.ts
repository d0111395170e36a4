// NaCl secretbox (XSalsa20-Poly1305), which cosign's encrypted key format uses (https://nacl.cr.yp.to/secretbox.html).
// node:crypto has no Salsa20: this is the reference construction, small data only (keys, not files).

const rotl = (v: number, c: number) => (v << c) | (v >>> (32 - c));

/** The Salsa20 double-round core over 16 words; `hsalsa` returns HSalsa20's 8 output words instead. */
function core(input: Uint32Array, hsalsa: boolean): Uint32Array {
  const x = Uint32Array.from(input);
  for (let i = 0; i < 20; i += 2) {
    x[4] ^= rotl((x[0]! + x[12]!) | 0, 7); x[8] ^= rotl((x[4]! + x[0]!) | 0, 9);
    x[12] ^= rotl((x[8]! + x[4]!) | 0, 13); x[0] ^= rotl((x[12]! + x[8]!) | 0, 18);
    x[9] ^= rotl((x[5]! + x[1]!) | 0, 7); x[13] ^= rotl((x[9]! + x[5]!) | 0, 9);
    x[1] ^= rotl((x[13]! + x[9]!) | 0, 13); x[5] ^= rotl((x[1]! + x[13]!) | 0, 18);
    x[14] ^= rotl((x[10]! + x[6]!) | 0, 7); x[2] ^= rotl((x[14]! + x[10]!) | 0, 9);
    x[6] ^= rotl((x[2]! + x[14]!) | 0, 13); x[10] ^= rotl((x[6]! + x[2]!) | 0, 18);
    x[3] ^= rotl((x[15]! + x[11]!) | 0, 7); x[7] ^= rotl((x[3]! + x[15]!) | 0, 9);
    x[11] ^= rotl((x[7]! + x[3]!) | 0, 13); x[15] ^= rotl((x[11]! + x[7]!) | 0, 18);
    x[1] ^= rotl((x[0]! + x[3]!) | 0, 7); x[2] ^= rotl((x[1]! + x[0]!) | 0, 9);
    x[3] ^= rotl((x[2]! + x[1]!) | 0, 13); x[0] ^= rotl((x[3]! + x[2]!) | 0, 18);
    x[6] ^= rotl((x[5]! + x[4]!) | 0, 7); x[7] ^= rotl((x[6]! + x[5]!) | 0, 9);
    x[4] ^= rotl((x[7]! + x[6]!) | 0, 13); x[5] ^= rotl((x[4]! + x[7]!) | 0, 18);
    x[11] ^= rotl((x[10]! + x[9]!) | 0, 7); x[8] ^= rotl((x[11]! + x[10]!) | 0, 9);
    x[9] ^= rotl((x[8]! + x[11]!) | 0, 13); x[10] ^= rotl((x[9]! + x[8]!) | 0, 18);
    x[12] ^= rotl((x[15]! + x[14]!) | 0, 7); x[13] ^= rotl((x[12]! + x[15]!) | 0, 9);
    x[14] ^= rotl((x[13]! + x[12]!) | 0, 13); x[15] ^= rotl((x[14]! + x[13]!) | 0, 18);
  }
  if (hsalsa) return Uint32Array.from([x[0]!, x[5]!, x[10]!, x[15]!, x[6]!, x[7]!, x[8]!, x[9]!]);
  for (let i = 0; i < 16; i++) x[i] = (x[i]! + input[i]!) | 0;
  return x;
}

const words = (b: Uint8Array, off: number, n: number) => Array.from({ length: n }, (_, i) => new DataView(b.buffer, b.byteOffset + off + 4 * i, 4).getUint32(0, true));
const SIGMA = words(new TextEncoder().encode("expand 32-byte k"), 0, 4);

function setup(key: Uint8Array, n16: Uint8Array): Uint32Array {
  const k = words(key, 0, 8);
  const n = words(n16, 0, 4);
  return Uint32Array.from([SIGMA[0]!, k[0]!, k[1]!, k[2]!, k[3]!, SIGMA[1]!, n[0]!, n[1]!, n[2]!, n[3]!, SIGMA[2]!, k[4]!, k[5]!, k[6]!, k[7]!, SIGMA[3]!]);
}

/** XSalsa20 keystream XORed over `data` (the first `skip` keystream bytes are returned separately). */
function xsalsa20(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, skip: number): { head: Uint8Array; out: Uint8Array } {
  const sub = core(setup(key, nonce.subarray(0, 16)), true);
  const subKey = new Uint8Array(new Uint32Array(sub).buffer);
  const state = setup(subKey, new Uint8Array(16));
  const n2 = words(nonce, 16, 2);
  state[6] = n2[0]!;
  state[7] = n2[1]!;
  const total = skip + data.length;
  const stream = new Uint8Array(Math.ceil(total / 64) * 64);
  for (let block = 0; block * 64 < total; block++) {
    state[8] = block >>> 0;
    state[9] = Math.floor(block / 2 ** 32);
    stream.set(new Uint8Array(core(state, false).buffer), block * 64);
  }
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ stream[skip + i]!;
  return { head: stream.slice(0, skip), out };
}

const le = (b: Uint8Array) => b.reduceRight((acc, v) => (acc << 8n) | BigInt(v), 0n);

/** Poly1305 one-time authenticator (RFC 8439 §2.5). */
export function poly1305(key: Uint8Array, msg: Uint8Array): Uint8Array {
  const p = (1n << 130n) - 5n;
  const r = le(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = le(key.subarray(16, 32));
  let acc = 0n;
  for (let i = 0; i < msg.length; i += 16) {
    const chunk = msg.subarray(i, i + 16);
    acc = ((acc + le(chunk) + (1n << BigInt(8 * chunk.length))) * r) % p;
  }
  acc = (acc + s) & ((1n << 128n) - 1n);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number((acc >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** secretbox: 16-byte Poly1305 tag, then the XSalsa20 ciphertext. */
export function secretboxSeal(msg: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  const { head, out } = xsalsa20(key, nonce, msg, 32);
  const sealed = new Uint8Array(16 + out.length);
  sealed.set(poly1305(head, out));
  sealed.set(out, 16);
  return sealed;
}

/** Opens a secretbox; undefined when the tag does not match (wrong key or tampered bytes). */
export function secretboxOpen(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | undefined {
  if (box.length < 16) return undefined;
  const c = box.subarray(16);
  const { head, out } = xsalsa20(key, nonce, c, 32);
  const tag = poly1305(head, c);
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= tag[i]! ^ box[i]!;
  return diff === 0 ? out : undefined;
}
