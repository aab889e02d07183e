/**
 * Ed25519 keys and DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1): the signature
 * covers PAE(payloadType, payload) = "DSSEv1" SP len(type) SP type SP len(payload) SP payload.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { VigilError } from '@vigil/errors';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseEnvelope {
  payloadType: string;
  /** base64 of the payload bytes. */
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

export interface SigningKey {
  keyId: string;
  /** Raw 32-byte Ed25519 public key, base64. */
  publicKey: string;
  privateKey: KeyObject;
}

export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' }) as { x?: string };
  if (!jwk.x) throw new VigilError('VIGIL_E_CONFIG_INVALID', 'not an Ed25519 key', { fix: 'use an Ed25519 key' });
  return Buffer.from(jwk.x, 'base64url');
}

/** Key id: the first 16 bytes of sha256(raw public key), hex. */
export function keyIdOf(publicKeyB64: string): string {
  return createHash('sha256').update(Buffer.from(publicKeyB64, 'base64')).digest('hex').slice(0, 32);
}

export function publicKeyFromRaw(publicKeyB64: string, field = 'publicKey'): KeyObject {
  const raw = Buffer.from(publicKeyB64, 'base64');
  if (raw.length !== 32) throw new VigilError('VIGIL_E_REQUEST_INVALID', `${field} must be a 32-byte Ed25519 public key in base64 (got ${raw.length} bytes)`, { field, fix: 'send the raw Ed25519 public key, base64-encoded' });
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

export function signingKeyFrom(privateKey: KeyObject): SigningKey {
  const publicKey = rawPublicKey(createPublicKey(privateKey)).toString('base64');
  return { keyId: keyIdOf(publicKey), publicKey, privateKey };
}

export function generateSigningKey(): SigningKey {
  return signingKeyFrom(generateKeyPairSync('ed25519').privateKey);
}

export function privateKeyToPem(k: SigningKey): string {
  return k.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function signingKeyFromPem(pem: string, field = 'key file'): SigningKey {
  let key: KeyObject;
  try { key = createPrivateKey(pem); } catch (e) {
    throw new VigilError('VIGIL_E_CONFIG_INVALID', `${field} is not a PEM private key: ${(e as Error).message}`, { field, fix: 'point it at a PKCS#8 Ed25519 key, or remove the file to have a new one made' });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new VigilError('VIGIL_E_CONFIG_INVALID', `${field} holds a ${key.asymmetricKeyType} key, not Ed25519`, { field, fix: 'use an Ed25519 key' });
  return signingKeyFrom(key);
}

export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

export function signEnvelope(payload: Uint8Array | string, key: SigningKey, payloadType = IN_TOTO_PAYLOAD_TYPE): DsseEnvelope {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const sig = sign(null, pae(payloadType, bytes), key.privateKey);
  return { payloadType, payload: bytes.toString('base64'), signatures: [{ keyid: key.keyId, sig: sig.toString('base64') }] };
}

/** True when one of the envelope's signatures by `keyId` verifies with `publicKey`. */
export function verifyEnvelope(env: DsseEnvelope, keyId: string, publicKey: KeyObject): boolean {
  const body = Buffer.from(env.payload, 'base64');
  const msg = pae(env.payloadType, body);
  for (const s of env.signatures) {
    if (s.keyid !== keyId) continue;
    try {
      if (verify(null, msg, publicKey, Buffer.from(s.sig, 'base64'))) return true;
    } catch { /* a malformed signature is just not valid */ }
  }
  return false;
}

export function isEnvelope(v: unknown): v is DsseEnvelope {
  const e = v as DsseEnvelope;
  return !!e && typeof e === 'object' && typeof e.payloadType === 'string' && typeof e.payload === 'string' && Array.isArray(e.signatures)
    && e.signatures.every((s) => s && typeof s.keyid === 'string' && typeof s.sig === 'string');
}

export function envelopePayload(env: DsseEnvelope): unknown {
  return JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
}
