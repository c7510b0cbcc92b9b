export { createRulesAi, draftWithRules, latestTenantText, RULES_MODEL } from './rules-ai.js';
export { classifyIntent, type IntentClassification } from './intent.js';
export { extractPaymentPlan, findPaymentRate, type PaymentRate } from './payment-plan.js';
export { findStartDate } from './start-date.js';
export { findAmounts, formatMoney, parseNumberWords, roundCents, type AmountMatch } from './numbers.js';
export { collectionsTemplate, renderSms, type TemplateReply } from './templates.js';
export { readInstructions, type EditStyle } from './instructions.js';
export { emailReplyText } from './email-reply.js';
export {
  evaluateRules,
  formatReport,
  loadLabelledTexts,
  LabelledText,
  DEFAULT_TODAY,
  type EvalReport,
} from './evaluate.js';
