/**
 * sip.js writes Via and Contact without a port and ignores responses whose top Via carries one; every
 * transport therefore adds its local port (and rport) on the way out and removes it from responses on the
 * way in.
 */
export function addLocalPort(message: string, protocol: 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS', port: number): string {
  const via = new RegExp(`^(Via:\\s*SIP\\/2\\.0\\/${protocol}\\s+)([^;:\\s]+)(;|\\s)`, 'im');
  return message
    .replace(via, `$1$2:${port};rport$3`)
    .replace(/^(Contact:[^\r\n]*<sip:[^@>]+@)([^;:>]+)([;>])/im, `$1$2:${port}$3`);
}

export function stripLocalPort(message: string, protocol: 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS', port?: number): string {
  if (!message.startsWith('SIP/2.0 ')) return message;
  let m = message.replace(new RegExp(`^(Via:\\s*SIP\\/2\\.0\\/${protocol}\\s+)([^;:\\s]+):\\d+`, 'im'), '$1$2');
  // A registrar echoes our Contact bindings; sip.js recognises its own only without the port we added.
  if (port && /^CSeq:\s*\d+\s+REGISTER/im.test(m)) m = m.replace(new RegExp(`^((?:Contact|m):[^\\r\\n]*<sips?:[^@>]+@[^;:>]+):${port}([;>])`, 'gim'), '$1$2');
  return m;
}

export function topBranch(message: string): string | undefined {
  return /^Via:[^\r\n]*branch=([^;\s,]+)/im.exec(message)?.[1];
}
