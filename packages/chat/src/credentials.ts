import { readFile } from 'node:fs/promises';
import { VigilError } from '@vigil/errors';

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
