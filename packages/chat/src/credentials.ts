import { readFile } from 'node:fs/promises';
import type { TargetSpec } from '@vigil/contract';
import { VigilError } from '@vigil/errors';
import type { CheckContext } from '@vigil/journey';

/**
 * Resolves a target's credentialsRef on the probe: `env:NAME` reads the probe's environment, `file:/path` a
 * file (trailing newline trimmed). Secrets are resolved where they are used and never sent anywhere else.
 */
export async function resolveCredential(ref: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (ref === undefined) return undefined;
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const v = env[name];
    if (v === undefined || v === '') throw new VigilError('VIGIL_E_CREDENTIALS_MISSING', `the probe has no environment variable ${name}`, { field: 'credentialsRef', fix: `set ${name} in the probe's environment` });
    return v;
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    try {
      return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    } catch (e) {
      throw new VigilError('VIGIL_E_CREDENTIALS_MISSING', `the probe cannot read ${path}`, { field: 'credentialsRef', fix: 'mount the secret file on the probe', cause: e });
    }
  }
  throw new VigilError('VIGIL_E_CREDENTIALS_MISSING', 'credentialsRef must be "env:NAME" or "file:/path"', { field: 'credentialsRef', fix: 'fix the target definition' });
}

/**
 * What a run's cross-system checks may use, from its target: {{run.id}}, {{vars.x}} (config.vars),
 * {{secrets.x}} (config.secrets, resolved here on the probe when a step first needs them) and the origins
 * http steps may call (config.httpAllow).
 */
export function checkContextFor(target: TargetSpec, runId: string, env: NodeJS.ProcessEnv = process.env): CheckContext {
  const c = target.config as { vars?: Record<string, string>; secrets?: Record<string, string>; httpAllow?: string[]; telemetry?: { url: string; waitMs?: number } };
  return {
    variables: { 'run.id': runId, ...Object.fromEntries(Object.entries(c.vars ?? {}).map(([k, v]) => [`vars.${k}`, v])) },
    secrets: async () => {
      const out: Record<string, string> = {};
      for (const [k, ref] of Object.entries(c.secrets ?? {})) {
        try {
          out[k] = (await resolveCredential(ref, env))!;
        } catch (e) {
          throw new VigilError('VIGIL_E_CREDENTIALS_MISSING', `secret ${k}: ${(e as Error).message}`, { field: `config.secrets.${k}`, fix: (e as VigilError).fix ?? 'fix the reference', cause: e });
        }
      }
      return out;
    },
    httpAllow: (c.httpAllow ?? []).map((o) => new URL(o).origin),
    ...(c.telemetry ? { telemetry: { url: c.telemetry.url, waitMs: c.telemetry.waitMs ?? 2_000 } } : {}),
  };
}
