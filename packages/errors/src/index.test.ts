import { describe, expect, it } from 'vitest';
import { ERROR_CODES, VigilError, isRetryable, toVigilError } from './index.ts';

describe('error registry', () => {
  it('names every code VIGIL_E_* and gives each a meaning', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^VIGIL_E_[A-Z]+(_[A-Z]+)*$/);
      expect(spec.meaning.length).toBeGreaterThan(10);
      expect(spec.http).toBeGreaterThanOrEqual(400);
    }
  });

  it('carries field and fix into the API body', () => {
    const e = new VigilError('VIGIL_E_REQUEST_INVALID', 'endpoint is required', { field: 'endpoint', fix: 'set endpoint to the bot URL' });
    expect(e.toJSON()).toEqual({ code: 'VIGIL_E_REQUEST_INVALID', message: 'endpoint is required', retryable: false, field: 'endpoint', fix: 'set endpoint to the bot URL' });
    expect(e.httpStatus).toBe(400);
  });

  it('treats unknown failures as transient and typed ones by their code', () => {
    expect(isRetryable(new Error('socket hang up'))).toBe(true);
    expect(isRetryable(new VigilError('VIGIL_E_AUTH_PROBE_TOKEN', 'no'))).toBe(false);
    expect(toVigilError(new Error('x')).code).toBe('VIGIL_E_INTERNAL');
  });
});
