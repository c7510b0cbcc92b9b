import { describe, expect, it } from 'vitest';
import type { EmailDraftRequest } from '../ai-port.js';
import { emailReplyText, senderName, topicOf } from './email-reply.js';
import { PLAIN_STYLE, readInstructions } from './instructions.js';

const request = (over: Partial<EmailDraftRequest['email']> = {}, ownerName?: string): EmailDraftRequest => ({
  kind: 'email_reply',
  email: {
    from: 'ann.lee@example.org',
    fromName: 'Ann Lee',
    subject: 'Meeting tomorrow at 2pm?',
    text: 'Can we meet tomorrow at 2pm?',
    receivedAt: '2025-01-15T10:00:00Z',
    ...over,
  },
  ownerName,
  instructions: [],
});

describe('email reply template', () => {
  it('acknowledges with the sender name and subject', () => {
    expect(emailReplyText(request({}, 'Bob Stone'), PLAIN_STYLE)).toBe(
      'Hi Ann,\n\nThank you for your email about "Meeting tomorrow at 2pm?". I\'ve received it and will get back to you soon.\n\nBest regards,\nBob Stone',
    );
  });

  it('handles the seed example edit: reject meeting with health reason', () => {
    expect(emailReplyText(request({}, 'Bob'), readInstructions(['reject meeting with health reason']))).toBe(
      'Hi Ann,\n\nThank you for your email about "Meeting tomorrow at 2pm?". Unfortunately, I have to decline the meeting for health reasons.\n\nBest regards,\nBob',
    );
  });

  it('formal, short and additions', () => {
    const text = emailReplyText(
      request({}, 'Bob'),
      readInstructions(['more formal', 'shorter', 'mention I am OUT until Monday']),
    );
    expect(text).toBe(
      'Dear Ann Lee,\n\nThank you for your email about "Meeting tomorrow at 2pm?". I am OUT until Monday.\n\nKind regards,\nBob',
    );
  });

  it.each([
    ['confirm the meeting', "I'm happy to confirm the meeting."],
    ["confirm that I'll attend", "I'm happy to confirm that I'll attend."],
    ['accept', "I'm happy to confirm."],
    [
      'decline the invitation because I am traveling',
      'Unfortunately, I have to decline the invitation because I am traveling.',
    ],
  ])('%s', (instruction, sentence) => {
    expect(emailReplyText(request(), readInstructions([instruction]))).toContain(sentence);
  });

  it('shows what it could not apply, as typed', () => {
    expect(emailReplyText(request(), readInstructions(['Make it FUNNIER']))).toContain('[Make it FUNNIER]');
  });

  it('works without names or subject', () => {
    const text = emailReplyText(request({ fromName: undefined, subject: '' }), PLAIN_STYLE);
    expect(text).toBe(
      "Hello,\n\nThank you for your email. I've received it and will get back to you soon.\n\nBest regards,",
    );
  });

  it.each([
    ['Re: Meeting', 'Meeting'],
    ['RE: Re: Fwd: Meeting', 'Meeting'],
    ['AW: Angebot', 'Angebot'],
    ['Re[2]: x', 'x'],
    ['Recipe ideas', 'Recipe ideas'],
  ])('topic of %s is %s', (subject, topic) => {
    expect(topicOf(subject)).toBe(topic);
  });

  it.each([
    [{ from: 'x@y.z', fromName: 'Ann' }, 'Ann'],
    [{ from: '"Ann Lee" <ann@y.z>' }, 'Ann Lee'],
    [{ from: 'Ann Lee <ann@y.z>' }, 'Ann Lee'],
    [{ from: '<ann@y.z>' }, undefined],
    [{ from: 'ann@y.z <ann@y.z>' }, undefined],
  ])('sender name of %o is %s', (email, name) => {
    expect(senderName({ subject: '', text: '', receivedAt: '', ...email })).toBe(name);
  });
});
