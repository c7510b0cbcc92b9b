import { foldMessage } from './message-text.js';

/**
 * Opt-out, opt-in and help requests in a tenant's text, read before any AI call (issue 7,
 * "Compliance"). Pure: the workflow suppresses the number, confirms and routes.
 *
 * | kind          | when                                                                 |
 * |---------------|----------------------------------------------------------------------|
 * | `stop`        | the whole message is a carrier opt-out keyword: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT, OPT OUT — any case, with stray punctuation, spaces or emoji ("Stop.", " s t o p ", "OPT-OUT!!") |
 * | `start`       | the whole message is START or UNSTOP                                 |
 * | `help`        | the whole message is HELP or INFO                                    |
 * | `natural_stop`| a request in words to stop texting: "stop texting me", "please stop contacting me", "don't text me anymore", "leave me alone", "remove my number", "unsubscribe me", "Stop. I paid already", Spanish "no me escribas", "ALTO" |
 * | `none`        | anything else                                                        |
 *
 * Decisions (see docs/collections-compliance.md):
 * - `stop` is kept for the words carriers and providers act on themselves (Twilio answers them
 *   with its own confirmation); everything else that asks us to stop is `natural_stop`, which we
 *   honour the same way (the FCC's 2024 TCPA order: revocation "by any reasonable means") but
 *   confirm ourselves, because no provider saw a keyword.
 * - Keywords count only as the whole message: "end of the month I can pay", "cancel my
 *   autopay?", "I quit my job" and "I need help" are `none`. "Cancel my autopay" is a payment
 *   question a person should answer, not a revocation of consent to be texted.
 * - A request limited in time or channel ("stop texting me at work", "don't text me after 9pm",
 *   "don't call me, text me instead") is `none`: it is not a revocation, and the intent rules
 *   send it to a person, who can honour it.
 * - "stop" about anything other than contacting ("I can't stop worrying about rent", "stop by the
 *   office", "stop the late fees") is `none`.
 * - YES re-subscribes only a number that opted out, so it needs the number's state and is left to
 *   the SMS store (`optOutKeyword`), as are provider-side opt-outs (Twilio error 21610).
 */

export type OptOutKind = 'stop' | 'start' | 'help' | 'natural_stop' | 'none';

export type OptOutClassification = {
  kind: OptOutKind;
  /** Which keyword or phrase pattern matched, for the audit log; undefined for `none`. */
  matched?: string | undefined;
};

const STOP_KEYWORDS: ReadonlySet<string> = new Set([
  'stop',
  'stopall',
  'unsubscribe',
  'cancel',
  'end',
  'quit',
  'revoke',
  'optout',
]);
const START_KEYWORDS: ReadonlySet<string> = new Set(['start', 'unstop']);
const HELP_KEYWORDS: ReadonlySet<string> = new Set(['help', 'info']);

/** Lower case, accents removed (Spanish requests are typed with and without them). */
function plain(text: string): string {
  return foldMessage(text).normalize('NFD').replace(/\p{M}/gu, '');
}

/** The message with everything but letters and digits removed: "S.T.O.P !" is "stop". */
function lettersOnly(text: string): string {
  return text.replace(/[^\p{L}\p{N}]/gu, '');
}

const POLITE = '(?:please|pls|plz|now|it|already|thanks|thank you|thx|immediately|asap|stop|ok|okay)';
const CONTACT_ING =
  '(?:texting|txting|texing|messaging|msging|contacting|calling|sending(?: me)?(?: (?:texts|messages))?|bothering|harassing|hitting (?:me|us) up|emailing|writing|sms(?:ing)?)';
const CONTACT_VERB = '(?:text|txt|message|msg|contact|call|sms|email|write to|reach out to|reach)';
const CONTACT_OBJECT = '(?:me|us|this number|this phone|my phone|my number|my cell)';

type NaturalPattern = { label: string; re: RegExp; qualifiable: boolean };

/**
 * `qualifiable`: a time or channel limit right after the match ("… at work", "… after 9pm")
 * turns the request into a preference, which a person handles.
 */
const NATURAL_PATTERNS: readonly NaturalPattern[] = [
  {
    label: 'polite_keyword',
    re: new RegExp(
      `^(?:${POLITE} )*(?:stop|stop all|stopall|unsubscribe|opt ?-?out|quit|end|cancel|revoke)(?: ${POLITE})*[\\s\\p{P}\\p{S}]*$`,
      'u',
    ),
    qualifiable: false,
  },
  {
    label: 'keyword_then_sentence',
    re: /^(?:stop|stopall|stop all|unsubscribe|opt ?-?out|revoke)\s*[.!,;:\n-]/,
    qualifiable: false,
  },
  {
    label: 'stop_contacting',
    re: new RegExp(`\\b(?:stop|quit|cease|quit it with)\\s+${CONTACT_ING}\\b(?:\\s+${CONTACT_OBJECT}\\b)?`),
    qualifiable: true,
  },
  {
    label: 'do_not_contact',
    re: new RegExp(
      `\\b(?:don'?t|do not|dont|never|pls don'?t|please don'?t)\\s+(?:ever\\s+)?${CONTACT_VERB}\\s+${CONTACT_OBJECT}\\b(?:\\s+(?:again|anymore|any more|ever again|no more))?`,
    ),
    qualifiable: true,
  },
  { label: 'leave_alone', re: /\bleave (?:me|us) alone\b/, qualifiable: false },
  {
    label: 'remove_number',
    re: /\bremove (?:me|us|my (?:phone |cell )?number|this (?:phone )?number|my phone)\b/,
    qualifiable: false,
  },
  {
    label: 'take_off_list',
    re: /\btake (?:me|us|my number|this number) off\b/,
    qualifiable: false,
  },
  {
    label: 'no_more_texts',
    re: /\b(?:no more|stop sending|quit sending|stop the|stop all)\s+(?:texts?|messages?|txts?|msgs?|sms|text messages|reminders)\b/,
    qualifiable: true,
  },
  { label: 'unsubscribe', re: /\bunsubscribe\b|\bopt(?:[\s-])?out\b/, qualifiable: false },
  { label: 'lose_number', re: /\b(?:lose|delete|erase|forget) (?:this|my) number\b/, qualifiable: false },
  {
    label: 'dont_want_texts',
    re: /\b(?:i|we) (?:don'?t|do not|dont) want (?:any more |anymore |more |any |your |these |those )?(?:texts?|messages?|txts?|msgs?|text messages)\b/,
    qualifiable: true,
  },
  {
    label: 'revoke_consent',
    re: /\b(?:revoke|withdraw|withdrawing|revoking) (?:my |all )?(?:consent|permission)\b|\bcease (?:all )?(?:contact|communications?)\b|\bcease and desist\b|\b(?:do not|don'?t) consent to (?:texts|messages|being (?:texted|contacted))\b/,
    qualifiable: false,
  },
  {
    label: 'spanish_keyword',
    re: /^(?:alto|parar|pare|detener|cancelar|basta|baja)[\s\p{P}\p{S}]*$/u,
    qualifiable: false,
  },
  {
    label: 'spanish_request',
    re: /\bno me (?:escribas|escriban|mandes|manden|envies|envien|contactes|contacten)\b|\bdeje?n? de (?:escribirme|mandarme|enviarme|contactarme|molestarme)\b|\bno (?:mas|quiero) mensajes\b/,
    qualifiable: false,
  },
];

/** Words after the request that narrow it to a time or place rather than stop it. */
const QUALIFIER =
  /^\s*(?:at (?:work|night|this hour|[0-9])|after\b|before\b|during\b|until\b|till\b|til\b|between\b|while\b|so (?:early|late)\b|this (?:early|late)\b|early\b|late at\b|in the (?:morning|evening|night)\b|on (?:weekends?|sundays?|saturdays?|weekdays|holidays|my work)\b)/;

/** "Don't call me, text me instead": a channel preference, not a revocation of texts. */
const TEXT_PREFERRED =
  /\b(?:text|txt|message) (?:me|us) (?:instead|only|here)\b|\b(?:only|just) (?:text|txt|message)\b/;

function naturalStop(text: string): string | undefined {
  if (TEXT_PREFERRED.test(text)) return undefined;
  for (const pattern of NATURAL_PATTERNS) {
    const match = pattern.re.exec(text);
    if (!match) continue;
    const after = text.slice(match.index + match[0].length);
    if (pattern.qualifiable && QUALIFIER.test(after)) continue;
    return pattern.label;
  }
  return undefined;
}

export function classifyOptOut(text: string): OptOutClassification {
  const folded = plain(text);
  const word = lettersOnly(folded);
  if (STOP_KEYWORDS.has(word)) return { kind: 'stop', matched: `keyword:${word}` };
  if (START_KEYWORDS.has(word)) return { kind: 'start', matched: `keyword:${word}` };
  if (HELP_KEYWORDS.has(word)) return { kind: 'help', matched: `keyword:${word}` };
  const label = naturalStop(folded);
  return label ? { kind: 'natural_stop', matched: label } : { kind: 'none' };
}

/**
 * A turn of several quick texts ("I'll pay Friday" / "STOP"): carriers read a keyword per
 * message, so each is classified alone; a later STOP or START overrides an earlier one, HELP
 * counts only when nothing else does. The joined text is checked too, for a request split over
 * two texts ("stop" / "texting me").
 */
export function classifyOptOutTurn(texts: readonly string[]): OptOutClassification {
  let result: OptOutClassification = { kind: 'none' };
  for (const text of texts) {
    const one = classifyOptOut(text);
    if (one.kind === 'stop' || one.kind === 'natural_stop' || one.kind === 'start') result = one;
    else if (one.kind === 'help' && result.kind === 'none') result = one;
  }
  if (result.kind !== 'none' || texts.length < 2) return result;
  const joined = classifyOptOut(texts.join('\n'));
  return joined.kind === 'natural_stop' ? joined : result;
}

/** True when the number must be suppressed at once: every stop request, keyword or not. */
export function suppressesNumber(kind: OptOutKind): boolean {
  return kind === 'stop' || kind === 'natural_stop';
}

/**
 * Whether we send the single opt-out (or opt-in) confirmation ourselves. A provider that answers
 * carrier keywords itself (Twilio's default) has already confirmed STOP and START; it never saw a
 * natural-language request, so those we always confirm. HELP gets our fixed help text unless the
 * provider answers it.
 */
export function sendsOwnConfirmation(kind: OptOutKind, providerAnswersKeywords: boolean): boolean {
  if (kind === 'natural_stop') return true;
  if (kind === 'stop' || kind === 'start' || kind === 'help') return !providerAnswersKeywords;
  return false;
}
