export { SipAgent, type SipAgentOptions, type SipTransportName, type Call, type CallSetup } from './caller.ts';
export { UdpTransport, T1_MS, T2_MS, type UdpTransportOptions } from './transport-udp.ts';
export { MediaSessionDescriptionHandler, type MediaSdhOptions } from './sdh.ts';
export { buildOffer, parseAnswer, TELEPHONE_EVENT_PT, type AudioOffer, type AudioAnswer } from './sdp.ts';
export { parseDialTarget, assertDialAllowed, type DialTarget } from './dial-guard.ts';
export { TcpTransport, TlsTransport, frameMessages, type TcpTransportOptions } from './transport-tcp.ts';
export { WsTransport, type WsTransportOptions } from './transport-ws.ts';
export { sipVoiceDriver, type VoiceTargetConfig, type VoiceOpenContext } from './voice.ts';
export { SipServer, type SipServerOptions, type IncomingCall } from './answerer.ts';
