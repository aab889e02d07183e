/**
 * ITU-T G.107 E-model, the simplified transmission-rating form used for VoIP call quality:
 *   R = 93.2 − Id − Ie,eff           (default Ro − Is, A = 0)
 *   Id = 0.024·Ta + 0.11·(Ta − 177.3)·H(Ta − 177.3)        Ta: mouth-to-ear one-way delay, ms
 *   Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl)   Ppl: packet loss %, BurstR: burst ratio
 *   MOS = 1 + 0.035 R + R (R − 60)(100 − R) · 7·10⁻⁶  for 0 < R < 100
 * Codec impairments (Ie, Bpl) from ITU-T G.113 Appendix I.
 */
export const CODEC_IMPAIRMENT = {
  PCMU: { ie: 0, bpl: 25.1 }, // G.711 with packet loss concealment
  PCMA: { ie: 0, bpl: 25.1 },
  'PCMU-noplc': { ie: 0, bpl: 4.3 },
  opus: { ie: 0, bpl: 20 }, // not in G.113; wideband codecs are rated on the narrowband scale conservatively
} as const;

export type CodecName = keyof typeof CODEC_IMPAIRMENT;

export interface EModelInput { codec: CodecName; oneWayDelayMs: number; packetLossPercent: number; burstRatio?: number }

export function rFactor(i: EModelInput): number {
  const { ie, bpl } = CODEC_IMPAIRMENT[i.codec];
  const ta = Math.max(0, i.oneWayDelayMs);
  const id = 0.024 * ta + (ta > 177.3 ? 0.11 * (ta - 177.3) : 0);
  const ppl = Math.max(0, Math.min(100, i.packetLossPercent));
  const burst = i.burstRatio ?? 1;
  const ieEff = ie + ((95 - ie) * ppl) / (ppl / burst + bpl);
  return 93.2 - id - ieEff;
}

export function mosFromR(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

export function mos(i: EModelInput): number {
  return mosFromR(rFactor(i));
}
