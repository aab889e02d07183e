/**
 * Checkpoints in the C2SP tlog-checkpoint format, signed as C2SP signed notes:
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n\n— <key name> <base64(key hash[4] || Ed25519 signature)>\n
 *
 * The key hash is the first four bytes of SHA-256(key name || 0x0A || 0x01 || public key); 0x01 marks Ed25519.
 * Verifier keys are written `<name>+<hex key hash>+<base64(0x01 || public key)>`, as the Go note package does.
 */
import { createHash, sign, verify } from 'node:crypto';
import { VigilError } from '@vigil/errors';
import { publicKeyFromRaw, type SigningKey } from './keys.ts';

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Buffer;
}

function noteKeyHash(name: string, publicKeyB64: string): Buffer {
  return createHash('sha256').update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([1]), Buffer.from(publicKeyB64, 'base64')])).digest().subarray(0, 4);
}

export function verifierKey(name: string, publicKeyB64: string): string {
  return `${name}+${noteKeyHash(name, publicKeyB64).toString('hex')}+${Buffer.concat([Buffer.from([1]), Buffer.from(publicKeyB64, 'base64')]).toString('base64')}`;
}

/** Parses a verifier key back to its name and raw public key. */
export function parseVerifierKey(vkey: string): { name: string; publicKey: string } {
  const text = vkey.trim();
  const bad = () => new VigilError('VIGIL_E_REQUEST_INVALID', `"${vkey}" is not a note verifier key`, { field: 'log key', fix: 'pass the log\'s verifier key as printed by GET /v1/evidence/log (name+hash+key)' });
  const a = text.indexOf('+');
  const b = text.indexOf('+', a + 1);
  if (a <= 0 || b < 0) throw bad();
  const [name, hash, key] = [text.slice(0, a), text.slice(a + 1, b), text.slice(b + 1)];
  const raw = Buffer.from(key, 'base64');
  if (raw.length !== 33 || raw[0] !== 1) throw bad();
  const publicKey = raw.subarray(1).toString('base64');
  if (noteKeyHash(name, publicKey).toString('hex') !== hash) throw bad();
  return { name, publicKey };
}

export function checkpointBody(c: Checkpoint): string {
  if (/[\n]/.test(c.origin) || c.origin === '') throw new VigilError('VIGIL_E_CONFIG_INVALID', 'a checkpoint origin is one non-empty line', { field: 'origin' });
  return `${c.origin}\n${c.size}\n${c.rootHash.toString('base64')}\n`;
}

export function signCheckpoint(c: Checkpoint, key: SigningKey, keyName = c.origin): string {
  const body = checkpointBody(c);
  const sig = sign(null, Buffer.from(body), key.privateKey);
  return `${body}\n— ${keyName} ${Buffer.concat([noteKeyHash(keyName, key.publicKey), sig]).toString('base64')}\n`;
}

function bad(message: string): VigilError {
  return new VigilError('VIGIL_E_EVIDENCE_CHECKPOINT', message, { fix: 'use the checkpoint exactly as the log served it' });
}

/** Parses a signed checkpoint note and checks its signature by `name`/`publicKey`; throws VIGIL_E_EVIDENCE_CHECKPOINT. */
export function verifyCheckpoint(note: string, name: string, publicKeyB64: string): Checkpoint {
  const split = note.indexOf('\n\n');
  if (split < 0) throw bad('checkpoint note has no signature block');
  const body = note.slice(0, split + 1);
  const lines = body.split('\n');
  if (lines.length < 4) throw bad('checkpoint body needs an origin, a tree size and a root hash');
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw bad(`checkpoint tree size "${sizeText}" is not a decimal number`);
  const rootHash = Buffer.from(rootText, 'base64');
  if (rootHash.length !== 32 || rootHash.toString('base64') !== rootText) throw bad('checkpoint root hash is not 32 bytes of base64');
  const wantHash = noteKeyHash(name, publicKeyB64);
  const key = publicKeyFromRaw(publicKeyB64, 'log public key');
  let signed = false;
  for (const line of note.slice(split + 2).split('\n')) {
    const m = /^— (\S+) (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const blob = Buffer.from(m[2]!, 'base64');
    if (blob.length !== 68 || !blob.subarray(0, 4).equals(wantHash)) continue;
    if (verify(null, Buffer.from(body), key, blob.subarray(4))) signed = true;
  }
  if (!signed) throw bad(`checkpoint is not signed by the log key ${name}`);
  return { origin, size: Number(sizeText), rootHash };
}
