/** Writes RTP (G.711 µ-law, 20 ms packets) into a pcap file that SIPp's play_pcap_audio can replay. */
import { writeFileSync } from 'node:fs';
import { encodeRtp, encodeUlaw } from '@vigil/media';

export function writeRtpPcap(file: string, pcm8k: Int16Array): void {
  const packets: Buffer[] = [];
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20); // Ethernet
  packets.push(head);
  for (let i = 0, pos = 0; pos < pcm8k.length; i++, pos += 160) {
    const frame = new Int16Array(160);
    frame.set(pcm8k.subarray(pos, pos + 160));
    const rtp = encodeRtp({ marker: i === 0, payloadType: 0, sequenceNumber: i + 1, timestamp: 8000 + pos, ssrc: 0x5eed, payload: encodeUlaw(frame) });
    const udpLen = 8 + rtp.length;
    const ipLen = 20 + udpLen;
    const eth = Buffer.alloc(14); eth.writeUInt16BE(0x0800, 12);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45; ip.writeUInt16BE(ipLen, 2); ip[8] = 64; ip[9] = 17;
    ip.set([127, 0, 0, 1], 12); ip.set([127, 0, 0, 1], 16);
    const udp = Buffer.alloc(8); udp.writeUInt16BE(16000, 0); udp.writeUInt16BE(16002, 2); udp.writeUInt16BE(udpLen, 4);
    const body = Buffer.concat([eth, ip, udp, rtp]);
    const rec = Buffer.alloc(16);
    const tMs = i * 20;
    rec.writeUInt32LE(1_700_000_000 + Math.floor(tMs / 1000), 0);
    rec.writeUInt32LE((tMs % 1000) * 1000, 4);
    rec.writeUInt32LE(body.length, 8);
    rec.writeUInt32LE(body.length, 12);
    packets.push(rec, body);
  }
  writeFileSync(file, Buffer.concat(packets));
}

const SDP = `Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000`;

const ANSWER = `  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      ${SDP}

    ]]>
  </send>
`;

const BYE = `  <recv request="BYE" />
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
`;

/**
 * A SIPp UAS scenario that plays `pcap` and waits for the caller's BYE. `early`: it sends 183 with SDP, plays
 * the greeting as early media, and answers `answerAfterMs` later; otherwise it rings, answers, then plays.
 */
export function ivrScenario(pcap: string, o: { early?: boolean; answerAfterMs?: number; playAfterMs?: number } = {}): string {
  if (o.early) {
    return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="uas greets with early media">
  <recv request="INVITE" />
  <send>
    <![CDATA[

      SIP/2.0 183 Session Progress
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      ${SDP}

    ]]>
  </send>
  <nop><action><exec play_pcap_audio="${pcap}"/></action></nop>
  <pause milliseconds="${o.answerAfterMs ?? 4000}"/>
${ANSWER}  <recv request="ACK" />
${BYE}</scenario>
`;
  }
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="uas plays a greeting">
  <recv request="INVITE" />
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="100"/>
${ANSWER}  <recv request="ACK" />
${o.playAfterMs ? `  <pause milliseconds="${o.playAfterMs}"/>\n` : ''}  <nop><action><exec play_pcap_audio="${pcap}"/></action></nop>
${BYE}</scenario>
`;
}
