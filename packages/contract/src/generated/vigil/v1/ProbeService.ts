// Original file: proto/vigil/v1/probe.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ArtifactChunk as _vigil_v1_ArtifactChunk, ArtifactChunk__Output as _vigil_v1_ArtifactChunk__Output } from '../../vigil/v1/ArtifactChunk.ts';
import type { ArtifactReceipt as _vigil_v1_ArtifactReceipt, ArtifactReceipt__Output as _vigil_v1_ArtifactReceipt__Output } from '../../vigil/v1/ArtifactReceipt.ts';
import type { HeartbeatRequest as _vigil_v1_HeartbeatRequest, HeartbeatRequest__Output as _vigil_v1_HeartbeatRequest__Output } from '../../vigil/v1/HeartbeatRequest.ts';
import type { HeartbeatResponse as _vigil_v1_HeartbeatResponse, HeartbeatResponse__Output as _vigil_v1_HeartbeatResponse__Output } from '../../vigil/v1/HeartbeatResponse.ts';
import type { RegisterProbeRequest as _vigil_v1_RegisterProbeRequest, RegisterProbeRequest__Output as _vigil_v1_RegisterProbeRequest__Output } from '../../vigil/v1/RegisterProbeRequest.ts';
import type { RegisterProbeResponse as _vigil_v1_RegisterProbeResponse, RegisterProbeResponse__Output as _vigil_v1_RegisterProbeResponse__Output } from '../../vigil/v1/RegisterProbeResponse.ts';
import type { RunAck as _vigil_v1_RunAck, RunAck__Output as _vigil_v1_RunAck__Output } from '../../vigil/v1/RunAck.ts';
import type { RunEvent as _vigil_v1_RunEvent, RunEvent__Output as _vigil_v1_RunEvent__Output } from '../../vigil/v1/RunEvent.ts';

export interface ProbeServiceClient extends grpc.Client {
  /**
   * Liveness and load; also tells the plane which runs the probe holds, so a reconnect reconciles.
   */
  Heartbeat(argument: _vigil_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _vigil_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _vigil_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _vigil_v1_HeartbeatRequest, callback: grpc.requestCallback<_vigil_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Liveness and load; also tells the plane which runs the probe holds, so a reconnect reconciles.
   */
  heartbeat(argument: _vigil_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _vigil_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _vigil_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _vigil_v1_HeartbeatRequest, callback: grpc.requestCallback<_vigil_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * First call of every session. The plane answers with the settings the probe must use.
   */
  RegisterProbe(argument: _vigil_v1_RegisterProbeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_RegisterProbeResponse__Output>): grpc.ClientUnaryCall;
  RegisterProbe(argument: _vigil_v1_RegisterProbeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_RegisterProbeResponse__Output>): grpc.ClientUnaryCall;
  RegisterProbe(argument: _vigil_v1_RegisterProbeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_RegisterProbeResponse__Output>): grpc.ClientUnaryCall;
  RegisterProbe(argument: _vigil_v1_RegisterProbeRequest, callback: grpc.requestCallback<_vigil_v1_RegisterProbeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * First call of every session. The plane answers with the settings the probe must use.
   */
  registerProbe(argument: _vigil_v1_RegisterProbeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_RegisterProbeResponse__Output>): grpc.ClientUnaryCall;
  registerProbe(argument: _vigil_v1_RegisterProbeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_RegisterProbeResponse__Output>): grpc.ClientUnaryCall;
  registerProbe(argument: _vigil_v1_RegisterProbeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_RegisterProbeResponse__Output>): grpc.ClientUnaryCall;
  registerProbe(argument: _vigil_v1_RegisterProbeRequest, callback: grpc.requestCallback<_vigil_v1_RegisterProbeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Streams the events of one run. The plane answers with an acknowledgement for each event it has durably
   * stored. Resending an event (same run_id, attempt, seq) is idempotent.
   */
  ReportRun(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_vigil_v1_RunEvent, _vigil_v1_RunAck__Output>;
  ReportRun(options?: grpc.CallOptions): grpc.ClientDuplexStream<_vigil_v1_RunEvent, _vigil_v1_RunAck__Output>;
  /**
   * Streams the events of one run. The plane answers with an acknowledgement for each event it has durably
   * stored. Resending an event (same run_id, attempt, seq) is idempotent.
   */
  reportRun(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_vigil_v1_RunEvent, _vigil_v1_RunAck__Output>;
  reportRun(options?: grpc.CallOptions): grpc.ClientDuplexStream<_vigil_v1_RunEvent, _vigil_v1_RunAck__Output>;
  
  /**
   * Uploads one artifact of a run attempt (a call recording, the redacted transcript) in chunks. The plane
   * encrypts it with the run's key; the run's signed evidence record names it by sha256. Send every artifact
   * before the run's run_finished event. Resending the same artifact replaces it.
   */
  UploadArtifact(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ArtifactReceipt__Output>): grpc.ClientWritableStream<_vigil_v1_ArtifactChunk>;
  UploadArtifact(metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ArtifactReceipt__Output>): grpc.ClientWritableStream<_vigil_v1_ArtifactChunk>;
  UploadArtifact(options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ArtifactReceipt__Output>): grpc.ClientWritableStream<_vigil_v1_ArtifactChunk>;
  UploadArtifact(callback: grpc.requestCallback<_vigil_v1_ArtifactReceipt__Output>): grpc.ClientWritableStream<_vigil_v1_ArtifactChunk>;
  /**
   * Uploads one artifact of a run attempt (a call recording, the redacted transcript) in chunks. The plane
   * encrypts it with the run's key; the run's signed evidence record names it by sha256. Send every artifact
   * before the run's run_finished event. Resending the same artifact replaces it.
   */
  uploadArtifact(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ArtifactReceipt__Output>): grpc.ClientWritableStream<_vigil_v1_ArtifactChunk>;
  uploadArtifact(metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ArtifactReceipt__Output>): grpc.ClientWritableStream<_vigil_v1_ArtifactChunk>;
  uploadArtifact(options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ArtifactReceipt__Output>): grpc.ClientWritableStream<_vigil_v1_ArtifactChunk>;
  uploadArtifact(callback: grpc.requestCallback<_vigil_v1_ArtifactReceipt__Output>): grpc.ClientWritableStream<_vigil_v1_ArtifactChunk>;
  
}

export interface ProbeServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Liveness and load; also tells the plane which runs the probe holds, so a reconnect reconciles.
   */
  Heartbeat: grpc.handleUnaryCall<_vigil_v1_HeartbeatRequest__Output, _vigil_v1_HeartbeatResponse>;
  
  /**
   * First call of every session. The plane answers with the settings the probe must use.
   */
  RegisterProbe: grpc.handleUnaryCall<_vigil_v1_RegisterProbeRequest__Output, _vigil_v1_RegisterProbeResponse>;
  
  /**
   * Streams the events of one run. The plane answers with an acknowledgement for each event it has durably
   * stored. Resending an event (same run_id, attempt, seq) is idempotent.
   */
  ReportRun: grpc.handleBidiStreamingCall<_vigil_v1_RunEvent__Output, _vigil_v1_RunAck>;
  
  /**
   * Uploads one artifact of a run attempt (a call recording, the redacted transcript) in chunks. The plane
   * encrypts it with the run's key; the run's signed evidence record names it by sha256. Send every artifact
   * before the run's run_finished event. Resending the same artifact replaces it.
   */
  UploadArtifact: grpc.handleClientStreamingCall<_vigil_v1_ArtifactChunk__Output, _vigil_v1_ArtifactReceipt>;
  
}

export interface ProbeServiceDefinition extends grpc.ServiceDefinition {
  Heartbeat: MethodDefinition<_vigil_v1_HeartbeatRequest, _vigil_v1_HeartbeatResponse, _vigil_v1_HeartbeatRequest__Output, _vigil_v1_HeartbeatResponse__Output>
  RegisterProbe: MethodDefinition<_vigil_v1_RegisterProbeRequest, _vigil_v1_RegisterProbeResponse, _vigil_v1_RegisterProbeRequest__Output, _vigil_v1_RegisterProbeResponse__Output>
  ReportRun: MethodDefinition<_vigil_v1_RunEvent, _vigil_v1_RunAck, _vigil_v1_RunEvent__Output, _vigil_v1_RunAck__Output>
  UploadArtifact: MethodDefinition<_vigil_v1_ArtifactChunk, _vigil_v1_ArtifactReceipt, _vigil_v1_ArtifactChunk__Output, _vigil_v1_ArtifactReceipt__Output>
}
