// Worker side of RtpReceiveThread: owns a UDP socket and does all per-packet receive work (parse, RFC 3550
// statistics, G.711 decode, track assembly) on its own thread.
import dgram from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { decodeAlaw, decodeUlaw, PT_PCMA, PT_PCMU } from './g711.ts';
import { RtpReceiveStats, TrackAssembler } from './receiver.ts';
import { isRtcp, parseRtp } from './rtp.ts';

const { host, port } = workerData as { host: string; port: number };
const streams = new Map<number, { stats: RtpReceiveStats; asm: TrackAssembler }>();
let malformed = 0;
let rtcp = 0;
const sock = dgram.createSocket('udp4');
sock.on('message', (m) => {
  if (isRtcp(m)) { rtcp++; return; }
  let p;
  try { p = parseRtp(m); } catch { malformed++; return; }
  let s = streams.get(p.ssrc);
  if (!s) { s = { stats: new RtpReceiveStats(8000), asm: new TrackAssembler(8000) }; streams.set(p.ssrc, s); }
  const now = performance.now() + performance.timeOrigin;
  s.stats.push(p, now);
  if (p.payloadType === PT_PCMU) s.asm.push(p, decodeUlaw(p.payload), now);
  else if (p.payloadType === PT_PCMA) s.asm.push(p, decodeAlaw(p.payload), now);
});
sock.bind(port, host, () => {
  sock.setRecvBufferSize(8 * 1024 * 1024);
  parentPort!.postMessage({ type: 'bound', port: sock.address().port });
});
parentPort!.on('message', (m: { type: 'collect' | 'close' }) => {
  if (m.type === 'collect') {
    const tracks = [...streams.entries()].map(([ssrc, s]) => ({ ssrc, stats: s.stats.stats, pcm: s.asm.pcm, gaps: s.asm.gaps(), firstSampleLocalMs: s.asm.sampleToLocalMs(0) }));
    parentPort!.postMessage({ type: 'tracks', tracks, malformed, rtcp }, tracks.map((t) => t.pcm.buffer as ArrayBuffer));
  } else {
    sock.close(() => parentPort!.postMessage({ type: 'closed' }));
  }
});
