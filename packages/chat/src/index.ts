export { validateTarget, redactionPolicy, type RedactionPolicy, DEFAULT_HTTP_BODY, DEFAULT_WS_MESSAGE, type TargetInput, type OpenAiTargetConfig, type HttpTargetConfig, type WebSocketTargetConfig } from './target.ts';
export { chatDrivers, openAiDriver, httpDriver, webSocketDriver, fillTemplate, type ChannelDriver, type OpenContext } from './drivers.ts';
export { resolveCredential, checkContextFor } from './credentials.ts';
export { WebhookListener, webhookListenerFromEnv, type WebhookCall } from './webhooks.ts';
