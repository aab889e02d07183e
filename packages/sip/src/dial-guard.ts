/**
 * Toll-fraud guard. A probe dials only what its target allows, and only well-formed dial strings: a SIP URI
 * `sip:user@host[:port]` whose user part is an E.164-style number (+ and up to 15 digits) or a plain name, with
 * no URI parameters, headers, escapes or white space that could smuggle a different destination through a
 * trunk. The check runs before any INVITE leaves.
 */
import { VigilError } from '@vigil/errors';

const USER = /^(\+?[0-9]{1,15}|[a-z][a-z0-9._-]{0,63})$/i;
const HOST = /^([a-z0-9-]+\.)*[a-z0-9-]+$|^\d{1,3}(\.\d{1,3}){3}$/i;

export interface DialTarget { user: string; host: string; port: number; uri: string }

export function parseDialTarget(target: string): DialTarget {
  const bad = (why: string) => new VigilError('VIGIL_E_DIAL_NOT_ALLOWED', `refusing to dial ${JSON.stringify(target)}: ${why}`, { field: 'target', fix: 'dial sip:<number or name>@<host>[:port] with no parameters' });
  if (/[\s;?%<>"\\]/.test(target)) throw bad('it contains parameters, headers, escapes or white space');
  const m = /^sip:([^@]+)@([^:]+)(?::(\d{1,5}))?$/i.exec(target);
  if (!m) throw bad('it is not sip:user@host[:port]');
  const [, user, host, port] = m;
  if (!USER.test(user!)) throw bad('the user part must be a number (+ and up to 15 digits) or a plain name');
  if (!HOST.test(host!)) throw bad('the host is not a host name or IPv4 address');
  const p = port ? Number(port) : 5060;
  if (p < 1 || p > 65535) throw bad('the port is out of range');
  return { user: user!, host: host!.toLowerCase(), port: p, uri: `sip:${user}@${host!.toLowerCase()}:${p}` };
}

/**
 * Allowlist entries: a full SIP URI (`sip:ivr@10.0.0.5:5060`, port 5060 when absent) or a number (`+442071234567`),
 * which allows that number at any host the target routes to.
 */
export function assertDialAllowed(target: string, allowlist: readonly string[]): DialTarget {
  const t = parseDialTarget(target);
  const ok = allowlist.some((entry) => (entry.startsWith('sip:') ? parseDialTarget(entry).uri === t.uri : entry === t.user));
  if (!ok) throw new VigilError('VIGIL_E_DIAL_NOT_ALLOWED', `${t.uri} is not on this target's allowlist`, { field: 'target', fix: 'add the number or URI to the target\'s allowlist if the call is intended' });
  return t;
}
