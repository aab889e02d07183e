/** The reference bot's dialogue: deterministic rules over a small per-conversation state. */

export type Intent = 'greeting' | 'balance' | 'ask_account' | 'card_lost' | 'fees' | 'escalate' | 'goodbye' | 'fallback';

export interface DialogueState {
  awaiting: 'account' | null;
  turns: number;
}

export interface BotTurn {
  intent: Intent;
  text: string;
}

export function newState(): DialogueState {
  return { awaiting: null, turns: 0 };
}

const RULES: Array<{ intent: Intent; re: RegExp }> = [
  { intent: 'card_lost', re: /\b(lost|lose|stolen|stole|missing)\b.*\bcard\b|\bcard\b.*\b(lost|lose|stolen|stole|missing)\b|block (my )?card/i },
  { intent: 'balance', re: /\bbalance\b|how much (money )?(do i have|is in)/i },
  { intent: 'fees', re: /\b(fee|fees|charge|charges)\b/i },
  { intent: 'escalate', re: /\b(agent|human|person|representative|operator)\b/i },
  { intent: 'goodbye', re: /\b(bye|goodbye|thanks|thank you)\b/i },
  { intent: 'greeting', re: /^\s*(hi|hello|hey|good (morning|afternoon|evening))\b/i },
];

export function respond(state: DialogueState, message: string): BotTurn {
  state.turns++;
  if (state.awaiting === 'account') {
    const digits = message.replace(/\D/g, '');
    if (digits.length >= 4) {
      state.awaiting = null;
      const last4 = digits.slice(-4);
      const cents = (Number(last4) * 37) % 500_000 + 10_000;
      return { intent: 'balance', text: `The balance of the account ending ${last4} is $${(cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}.` };
    }
  }
  const rule = RULES.find((r) => r.re.test(message));
  switch (rule?.intent) {
    case 'balance':
      state.awaiting = 'account';
      return { intent: 'ask_account', text: 'I can help with your balance. What is your account number?' };
    case 'card_lost':
      state.awaiting = null;
      return { intent: 'card_lost', text: "I'm sorry to hear that. I have blocked your card and a replacement will arrive within 5 business days." };
    case 'fees':
      return { intent: 'fees', text: 'There is no monthly fee on the standard account. International transfers cost $5.' };
    case 'escalate':
      return { intent: 'escalate', text: "I'm transferring you to an agent now. Please hold." };
    case 'goodbye':
      return { intent: 'goodbye', text: 'Thank you for contacting Vigil Bank. Goodbye!' };
    case 'greeting':
      return { intent: 'greeting', text: "Hello, this is Vigil Bank's assistant. How can I help you today?" };
    default:
      return { intent: 'fallback', text: "Sorry, I didn't understand that. I can help with balances, lost cards, fees, or connect you to an agent." };
  }
}
