/**
 * RFC 8785 JSON Canonicalization Scheme: object members sorted by their UTF-16 code units, no whitespace,
 * numbers in ECMAScript shortest form, strings escaped as JSON.stringify does. The same value always gives
 * the same bytes, so a hash of it names the content, not its formatting.
 */
import { createHash } from 'node:crypto';
import { VigilError } from '@vigil/errors';

export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

function write(v: unknown, path: string): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean': return v ? 'true' : 'false';
    case 'string': return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new VigilError('VIGIL_E_REQUEST_INVALID', `${path} is ${v}, which JSON cannot hold`, { field: path, fix: 'use a finite number or null' });
      return JSON.stringify(v); // ECMAScript Number-to-String, as RFC 8785 section 3.2.2.3 requires
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x, i) => write(x === undefined ? null : x, `${path}[${i}]`)).join(',')}]`;
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return write((v as { toJSON(): unknown }).toJSON(), path);
      // Default sort compares UTF-16 code units, as the RFC asks.
      const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${write((v as Record<string, unknown>)[k], `${path}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new VigilError('VIGIL_E_REQUEST_INVALID', `${path} is a ${typeof v}, which JSON cannot hold`, { field: path, fix: 'pass plain JSON values' });
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of the RFC 8785 form: the content hash of a JSON value. */
export function contentHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
