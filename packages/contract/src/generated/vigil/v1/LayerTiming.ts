// Original file: proto/vigil/v1/probe.proto

import type { ChatTurnTiming as _vigil_v1_ChatTurnTiming, ChatTurnTiming__Output as _vigil_v1_ChatTurnTiming__Output } from '../../vigil/v1/ChatTurnTiming.ts';
import type { CallSetupTiming as _vigil_v1_CallSetupTiming, CallSetupTiming__Output as _vigil_v1_CallSetupTiming__Output } from '../../vigil/v1/CallSetupTiming.ts';
import type { AsrTiming as _vigil_v1_AsrTiming, AsrTiming__Output as _vigil_v1_AsrTiming__Output } from '../../vigil/v1/AsrTiming.ts';
import type { LlmTiming as _vigil_v1_LlmTiming, LlmTiming__Output as _vigil_v1_LlmTiming__Output } from '../../vigil/v1/LlmTiming.ts';
import type { TtsTiming as _vigil_v1_TtsTiming, TtsTiming__Output as _vigil_v1_TtsTiming__Output } from '../../vigil/v1/TtsTiming.ts';
import type { VoiceTurnTiming as _vigil_v1_VoiceTurnTiming, VoiceTurnTiming__Output as _vigil_v1_VoiceTurnTiming__Output } from '../../vigil/v1/VoiceTurnTiming.ts';
import type { CallEndTiming as _vigil_v1_CallEndTiming, CallEndTiming__Output as _vigil_v1_CallEndTiming__Output } from '../../vigil/v1/CallEndTiming.ts';

/**
 * Per-layer timings: one union, defined once. Mirrored by the TypeScript `LayerTiming` union in
 * @vigil/contract, by rows in Postgres (layer, metric, value_ms) and by vigil_layer_duration_seconds.
 */
export interface LayerTiming {
  'stepIndex'?: (number);
  'chatTurn'?: (_vigil_v1_ChatTurnTiming | null);
  'callSetup'?: (_vigil_v1_CallSetupTiming | null);
  'asr'?: (_vigil_v1_AsrTiming | null);
  'llm'?: (_vigil_v1_LlmTiming | null);
  'tts'?: (_vigil_v1_TtsTiming | null);
  'voiceTurn'?: (_vigil_v1_VoiceTurnTiming | null);
  'callEnd'?: (_vigil_v1_CallEndTiming | null);
  'layer'?: "chatTurn"|"callSetup"|"asr"|"llm"|"tts"|"voiceTurn"|"callEnd";
}

/**
 * Per-layer timings: one union, defined once. Mirrored by the TypeScript `LayerTiming` union in
 * @vigil/contract, by rows in Postgres (layer, metric, value_ms) and by vigil_layer_duration_seconds.
 */
export interface LayerTiming__Output {
  'stepIndex': (number);
  'chatTurn'?: (_vigil_v1_ChatTurnTiming__Output | null);
  'callSetup'?: (_vigil_v1_CallSetupTiming__Output | null);
  'asr'?: (_vigil_v1_AsrTiming__Output | null);
  'llm'?: (_vigil_v1_LlmTiming__Output | null);
  'tts'?: (_vigil_v1_TtsTiming__Output | null);
  'voiceTurn'?: (_vigil_v1_VoiceTurnTiming__Output | null);
  'callEnd'?: (_vigil_v1_CallEndTiming__Output | null);
  'layer'?: "chatTurn"|"callSetup"|"asr"|"llm"|"tts"|"voiceTurn"|"callEnd";
}
