import { Type } from '@fastify/type-provider-typebox';
import { VigilError } from '@vigil/errors';

export const ErrorSchema = Type.Object({
  code: Type.String({ description: 'Stable VIGIL_E_* code' }),
  message: Type.String(),
  retryable: Type.Boolean(),
  field: Type.Optional(Type.String()),
  fix: Type.Optional(Type.String()),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
}, { $id: 'VigilError' });

export const errorResponses = {
  400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 413: ErrorSchema, 415: ErrorSchema, 422: ErrorSchema, 503: ErrorSchema,
};

export const Ref = Type.String({ minLength: 1, maxLength: 200, description: 'id or name' });

export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/** A journey runs only on a target of its channel family (chat journeys on chat.*, voice journeys on voice.*). */
export function assertChannelFamily(definition: unknown, targetChannel: string, field: string): void {
  const family = (definition as { channel?: string } | null)?.channel ?? 'chat';
  if (!targetChannel.startsWith(`${family}.`)) {
    throw new VigilError('VIGIL_E_SCHEDULE_INVALID', `a ${family} journey cannot run against a ${targetChannel} target`, { field, fix: `choose a ${family}.* target, or a journey written for ${targetChannel.split('.')[0]}` });
  }
}
