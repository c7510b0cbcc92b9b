import type { EmailDraftRequest } from '../ai-port.js';
import { withArticle, type EditStyle } from './instructions.js';

/**
 * The rules engine's email reply: a courteous acknowledgement that names the sender and the
 * subject, shaped by the owner's edit instructions (see instructions.ts). It cannot answer the
 * email's content — it does not read the body — which is why its confidence stays modest and
 * the owner approves every email reply anyway.
 */

/** "Re: Re: Fwd: Meeting" → "Meeting": the acknowledgement names the topic, not the reply chain. */
export function topicOf(subject: string): string {
  return subject.replace(/^\s*(?:(?:re|fwd?|aw|sv|wg)\s*(?:\[\d+\])?\s*:\s*)+/i, '').trim();
}

/** The sender's name: fromName, else the display name in `"Ann Lee" <ann@x.org>`, else none. */
export function senderName(email: EmailDraftRequest['email']): string | undefined {
  const explicit = email.fromName?.trim();
  if (explicit) return explicit;
  const display = /^\s*"?([^"<]+?)"?\s*</.exec(email.from)?.[1]?.trim();
  return display && !display.includes('@') ? display : undefined;
}

function greeting(name: string | undefined, tone: EditStyle['tone']): string {
  const first = name?.split(/\s+/)[0];
  if (tone === 'formal') return name ? `Dear ${name},` : 'Hello,';
  if (tone === 'casual') return first ? `Hey ${first},` : 'Hey,';
  return first ? `Hi ${first},` : 'Hello,';
}

function closing(tone: EditStyle['tone']): string {
  return tone === 'formal' ? 'Kind regards,' : tone === 'casual' ? 'Thanks,' : 'Best regards,';
}

function acknowledgement(topic: string, style: EditStyle): string {
  const brief = style.tone === 'casual' || (style.short && style.tone !== 'formal');
  const thanks = brief ? 'Thanks for your email' : 'Thank you for your email';
  return topic ? `${thanks} about "${topic}".` : `${thanks}.`;
}

function answer(style: EditStyle): string | undefined {
  if (style.decline) {
    return `Unfortunately, I have to decline${withArticle(style.decline.object)}${style.decline.reason}.`;
  }
  if (style.accept) return `I'm happy to confirm${withArticle(style.accept.object)}.`;
  return style.short ? undefined : "I've received it and will get back to you soon.";
}

export function emailReplyText(request: EmailDraftRequest, style: EditStyle): string {
  const sentences = [
    acknowledgement(topicOf(request.email.subject), style),
    answer(style),
    ...style.additions,
    ...style.unapplied.map((u) => `[${u}]`),
  ].filter((s): s is string => s !== undefined);
  const signature = style.signature ?? request.ownerName?.trim();
  const signOff = signature ? `${closing(style.tone)}\n${signature}` : closing(style.tone);
  return `${greeting(senderName(request.email), style.tone)}\n\n${sentences.join(' ')}\n\n${signOff}`;
}
