import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Artifact as _vigil_v1_Artifact, Artifact__Output as _vigil_v1_Artifact__Output } from './vigil/v1/Artifact.ts';
import type { ArtifactChunk as _vigil_v1_ArtifactChunk, ArtifactChunk__Output as _vigil_v1_ArtifactChunk__Output } from './vigil/v1/ArtifactChunk.ts';
import type { ArtifactReceipt as _vigil_v1_ArtifactReceipt, ArtifactReceipt__Output as _vigil_v1_ArtifactReceipt__Output } from './vigil/v1/ArtifactReceipt.ts';
import type { AsrTiming as _vigil_v1_AsrTiming, AsrTiming__Output as _vigil_v1_AsrTiming__Output } from './vigil/v1/AsrTiming.ts';
import type { AssertionOutcome as _vigil_v1_AssertionOutcome, AssertionOutcome__Output as _vigil_v1_AssertionOutcome__Output } from './vigil/v1/AssertionOutcome.ts';
import type { CallEndTiming as _vigil_v1_CallEndTiming, CallEndTiming__Output as _vigil_v1_CallEndTiming__Output } from './vigil/v1/CallEndTiming.ts';
import type { CallSetupTiming as _vigil_v1_CallSetupTiming, CallSetupTiming__Output as _vigil_v1_CallSetupTiming__Output } from './vigil/v1/CallSetupTiming.ts';
import type { ChatTurnTiming as _vigil_v1_ChatTurnTiming, ChatTurnTiming__Output as _vigil_v1_ChatTurnTiming__Output } from './vigil/v1/ChatTurnTiming.ts';
import type { HeartbeatRequest as _vigil_v1_HeartbeatRequest, HeartbeatRequest__Output as _vigil_v1_HeartbeatRequest__Output } from './vigil/v1/HeartbeatRequest.ts';
import type { HeartbeatResponse as _vigil_v1_HeartbeatResponse, HeartbeatResponse__Output as _vigil_v1_HeartbeatResponse__Output } from './vigil/v1/HeartbeatResponse.ts';
import type { LayerTiming as _vigil_v1_LayerTiming, LayerTiming__Output as _vigil_v1_LayerTiming__Output } from './vigil/v1/LayerTiming.ts';
import type { LlmTiming as _vigil_v1_LlmTiming, LlmTiming__Output as _vigil_v1_LlmTiming__Output } from './vigil/v1/LlmTiming.ts';
import type { ProbeServiceClient as _vigil_v1_ProbeServiceClient, ProbeServiceDefinition as _vigil_v1_ProbeServiceDefinition } from './vigil/v1/ProbeService.ts';
import type { RegisterProbeRequest as _vigil_v1_RegisterProbeRequest, RegisterProbeRequest__Output as _vigil_v1_RegisterProbeRequest__Output } from './vigil/v1/RegisterProbeRequest.ts';
import type { RegisterProbeResponse as _vigil_v1_RegisterProbeResponse, RegisterProbeResponse__Output as _vigil_v1_RegisterProbeResponse__Output } from './vigil/v1/RegisterProbeResponse.ts';
import type { RunAck as _vigil_v1_RunAck, RunAck__Output as _vigil_v1_RunAck__Output } from './vigil/v1/RunAck.ts';
import type { RunEvent as _vigil_v1_RunEvent, RunEvent__Output as _vigil_v1_RunEvent__Output } from './vigil/v1/RunEvent.ts';
import type { RunFinished as _vigil_v1_RunFinished, RunFinished__Output as _vigil_v1_RunFinished__Output } from './vigil/v1/RunFinished.ts';
import type { RunRequest as _vigil_v1_RunRequest, RunRequest__Output as _vigil_v1_RunRequest__Output } from './vigil/v1/RunRequest.ts';
import type { RunStarted as _vigil_v1_RunStarted, RunStarted__Output as _vigil_v1_RunStarted__Output } from './vigil/v1/RunStarted.ts';
import type { StepFinished as _vigil_v1_StepFinished, StepFinished__Output as _vigil_v1_StepFinished__Output } from './vigil/v1/StepFinished.ts';
import type { StepStarted as _vigil_v1_StepStarted, StepStarted__Output as _vigil_v1_StepStarted__Output } from './vigil/v1/StepStarted.ts';
import type { Transcript as _vigil_v1_Transcript, Transcript__Output as _vigil_v1_Transcript__Output } from './vigil/v1/Transcript.ts';
import type { TtsTiming as _vigil_v1_TtsTiming, TtsTiming__Output as _vigil_v1_TtsTiming__Output } from './vigil/v1/TtsTiming.ts';
import type { VoiceTurnTiming as _vigil_v1_VoiceTurnTiming, VoiceTurnTiming__Output as _vigil_v1_VoiceTurnTiming__Output } from './vigil/v1/VoiceTurnTiming.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  vigil: {
    v1: {
      Artifact: MessageTypeDefinition<_vigil_v1_Artifact, _vigil_v1_Artifact__Output>
      ArtifactChunk: MessageTypeDefinition<_vigil_v1_ArtifactChunk, _vigil_v1_ArtifactChunk__Output>
      ArtifactReceipt: MessageTypeDefinition<_vigil_v1_ArtifactReceipt, _vigil_v1_ArtifactReceipt__Output>
      AsrTiming: MessageTypeDefinition<_vigil_v1_AsrTiming, _vigil_v1_AsrTiming__Output>
      AssertionOutcome: MessageTypeDefinition<_vigil_v1_AssertionOutcome, _vigil_v1_AssertionOutcome__Output>
      CallEndTiming: MessageTypeDefinition<_vigil_v1_CallEndTiming, _vigil_v1_CallEndTiming__Output>
      CallSetupTiming: MessageTypeDefinition<_vigil_v1_CallSetupTiming, _vigil_v1_CallSetupTiming__Output>
      ChatTurnTiming: MessageTypeDefinition<_vigil_v1_ChatTurnTiming, _vigil_v1_ChatTurnTiming__Output>
      HeartbeatRequest: MessageTypeDefinition<_vigil_v1_HeartbeatRequest, _vigil_v1_HeartbeatRequest__Output>
      HeartbeatResponse: MessageTypeDefinition<_vigil_v1_HeartbeatResponse, _vigil_v1_HeartbeatResponse__Output>
      LayerTiming: MessageTypeDefinition<_vigil_v1_LayerTiming, _vigil_v1_LayerTiming__Output>
      LlmTiming: MessageTypeDefinition<_vigil_v1_LlmTiming, _vigil_v1_LlmTiming__Output>
      ProbeService: SubtypeConstructor<typeof grpc.Client, _vigil_v1_ProbeServiceClient> & { service: _vigil_v1_ProbeServiceDefinition }
      RegisterProbeRequest: MessageTypeDefinition<_vigil_v1_RegisterProbeRequest, _vigil_v1_RegisterProbeRequest__Output>
      RegisterProbeResponse: MessageTypeDefinition<_vigil_v1_RegisterProbeResponse, _vigil_v1_RegisterProbeResponse__Output>
      RunAck: MessageTypeDefinition<_vigil_v1_RunAck, _vigil_v1_RunAck__Output>
      RunEvent: MessageTypeDefinition<_vigil_v1_RunEvent, _vigil_v1_RunEvent__Output>
      RunFinished: MessageTypeDefinition<_vigil_v1_RunFinished, _vigil_v1_RunFinished__Output>
      RunRequest: MessageTypeDefinition<_vigil_v1_RunRequest, _vigil_v1_RunRequest__Output>
      RunStarted: MessageTypeDefinition<_vigil_v1_RunStarted, _vigil_v1_RunStarted__Output>
      StepFinished: MessageTypeDefinition<_vigil_v1_StepFinished, _vigil_v1_StepFinished__Output>
      StepStarted: MessageTypeDefinition<_vigil_v1_StepStarted, _vigil_v1_StepStarted__Output>
      Transcript: MessageTypeDefinition<_vigil_v1_Transcript, _vigil_v1_Transcript__Output>
      TtsTiming: MessageTypeDefinition<_vigil_v1_TtsTiming, _vigil_v1_TtsTiming__Output>
      Verdict: EnumTypeDefinition
      VoiceTurnTiming: MessageTypeDefinition<_vigil_v1_VoiceTurnTiming, _vigil_v1_VoiceTurnTiming__Output>
    }
  }
}

