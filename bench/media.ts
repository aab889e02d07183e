/**
 * Media and speech capacity on this machine (part of `pnpm bench`):
 *  1. Concurrent RTP streams in one process: each stream paces G.711 at 20 ms (one shared Pacer) to a
 *     receiving socket on loopback owned by a receive thread, which parses, keeps RFC 3550 statistics and
 *     assembles each track (the recording); after the run every track goes through VAD in worker threads. Reported: p99 send lateness (actual − due) per
 *     stream count, loss, and VAD time. BENCH_STREAMS="100,300,500", BENCH_SECONDS=5.
 *  2. Real-time factor (processing time / audio time) of each transcriber and synthesizer on the Asterisk
 *     prompts (20 prompts), when the Debian speech packages are installed.
 */
import dgram from 'node:dgram';
import { cpus } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import {
  AnalysisPool, PacedSender, PT_PCMU, RtpReceiveThread, encodeUlaw, frameSource, percentile, readWav, type PcmAudio,
} from '@vigil/media';
import { EspeakSynthesizer, FliteSynthesizer, PocketsphinxTranscriber } from '@vigil/speech';

const STREAMS = (process.env.BENCH_STREAMS ?? '100,300,500').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const SOUNDS = '/usr/share/asterisk/sounds/en';

function speech(seconds: number): Int16Array {
  const src = existsSync(`${SOUNDS}/agent-pass.wav`) ? readWav(readFileSync(`${SOUNDS}/agent-pass.wav`)).samples : Int16Array.from({ length: 8000 }, (_, i) => Math.round(5000 * Math.sin(i / 3)));
  const out = new Int16Array(seconds * 8000);
  for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
  return out;
}

async function streams(n: number, pool: AnalysisPool): Promise<Record<string, number>> {
  // Receiving runs on its own thread (RtpReceiveThread), as in a probe; this thread paces the senders.
  const rx = await RtpReceiveThread.start();
  const tx = dgram.createSocket('udp4');
  await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
  tx.setSendBufferSize(8 * 1024 * 1024);
  const pcm = speech(SECONDS);
  const senders = Array.from({ length: n }, () => new PacedSender({ payloadType: PT_PCMU, clockRate: 8000, ptimeMs: 20, send: (d) => tx.send(d, rx.port, '127.0.0.1'), nextFrame: frameSource(pcm, 160, encodeUlaw) }));
  const t0 = performance.now();
  // Stagger starts across one ptime, as independent calls would be.
  await Promise.all(senders.map((s, i) => new Promise<void>((r) => setTimeout(() => { void s.start().then(r); }, (i * 20) / n))));
  await new Promise((r) => setTimeout(r, 200));
  const wall = (performance.now() - t0) / 1000;
  const lateness = senders.flatMap((s) => s.lateness);
  const { tracks } = await rx.collect();
  await rx.close();
  tx.close();
  let received = 0, lost = 0;
  const jitters = tracks.map((t) => t.stats.jitterMs);
  for (const t of tracks) { received += t.stats.received; lost += t.stats.lost; }
  const sent = senders.reduce((a, s) => a + s.packets, 0);
  const tv = performance.now();
  await Promise.all(tracks.map((t) => pool.detectSpeech(t.pcm, 8000)));
  const vadS = (performance.now() - tv) / 1000;
  return {
    streams: n, seconds: SECONDS, wallSeconds: +wall.toFixed(2), sentPackets: sent, receivedPackets: received, lossPercent: +((100 * (sent - received)) / sent).toFixed(3), receiverLost: lost,
    p50SendLatenessMs: +percentile(lateness, 50).toFixed(2), p99SendLatenessMs: +percentile(lateness, 99).toFixed(2),
    p99ReceiveJitterMs: +percentile(jitters, 99).toFixed(2),
    vadSecondsForAllTracks: +vadS.toFixed(2), vadRealTimeFactor: +(vadS / (n * SECONDS)).toFixed(5),
  };
}

async function rtf(): Promise<Record<string, number> | undefined> {
  const tgz = '/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz';
  if (!existsSync(tgz) || !existsSync('/usr/bin/pocketsphinx_batch')) return undefined;
  const lines = gunzipSync(readFileSync(tgz)).toString().split('\n').filter((l) => /^[\w-]+: .+/.test(l));
  const set: Array<{ text: string; audio: PcmAudio }> = [];
  for (const l of lines) {
    const name = l.slice(0, l.indexOf(':'));
    if (!existsSync(`${SOUNDS}/${name}.wav`) || l.split(' ').length < 5) continue;
    set.push({ text: l.slice(l.indexOf(':') + 1).trim(), audio: readWav(readFileSync(`${SOUNDS}/${name}.wav`)) });
    if (set.length === 20) break;
  }
  const audioS = set.reduce((s, x) => s + x.audio.samples.length / x.audio.sampleRate, 0);
  const ps = new PocketsphinxTranscriber();
  let t = performance.now();
  await ps.transcribeMany(set.map((x) => x.audio));
  const open = (performance.now() - t) / 1000;
  t = performance.now();
  await ps.transcribeMany(set.map((x) => x.audio), { phrases: set.map((x) => x.text) });
  const phrases = (performance.now() - t) / 1000;
  const synth = async (s: { synthesize(t: string, o: { sampleRate: number }): Promise<PcmAudio> }) => {
    let secs = 0;
    const t0 = performance.now();
    for (const x of set.slice(0, 10)) { const a = await s.synthesize(x.text, { sampleRate: 8000 }); secs += a.samples.length / a.sampleRate; }
    return (performance.now() - t0) / 1000 / secs;
  };
  return {
    audioSeconds: +audioS.toFixed(1),
    pocketsphinxOpenRtf: +(open / audioS).toFixed(3), pocketsphinxPhraseSetRtf: +(phrases / audioS).toFixed(3),
    fliteRtf: +(await synth(new FliteSynthesizer())).toFixed(4), espeakNgRtf: +(await synth(new EspeakSynthesizer())).toFixed(4),
  };
}

const pool = new AnalysisPool();
const results = [];
for (const n of STREAMS) {
  const r = await streams(n, pool);
  results.push(r);
  console.log(`RTP streams: ${n} concurrent G.711 send+receive+record (${SECONDS} s): p99 send lateness ${r.p99SendLatenessMs} ms (p50 ${r.p50SendLatenessMs}), p99 RFC 3550 receive jitter ${r.p99ReceiveJitterMs} ms, loss ${r.lossPercent} %, VAD of all tracks in workers ${r.vadSecondsForAllTracks} s`);
}
await pool.close();
const speechRtf = await rtf();
if (speechRtf) console.log(`speech RTF: pocketsphinx open ${speechRtf.pocketsphinxOpenRtf}, phrase set ${speechRtf.pocketsphinxPhraseSetRtf}; flite ${speechRtf.fliteRtf}, espeak-ng ${speechRtf.espeakNgRtf} (${speechRtf.audioSeconds} s of prompts)`);
else console.log('speech RTF: skipped (pocketsphinx and the Asterisk prompts are not installed)');
console.log(JSON.stringify({ machine: { cpus: cpus().length, node: process.version }, rtp: results, speechRtf }));
