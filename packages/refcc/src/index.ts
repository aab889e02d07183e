export { startContactCenter, PROMPTS, type ContactCenter, type ContactCenterOptions, type Faults, type CallTruth, type TruthEvent, type DesktopEvent, type PromptName } from './center.ts';
export { serveApi, parseFaults } from './http.ts';
export { BOT_PHRASES, BOT_GREETING, runBot, type BotTruthEvent } from './bot.ts';
export { Crm, crmAfterTurn, type Case, type Customer } from './crm.ts';
