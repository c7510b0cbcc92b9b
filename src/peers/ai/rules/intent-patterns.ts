import type { Intent } from '../ai-port.js';

/**
 * The keyword and phrase table behind classifyIntent. A strong pattern (weight 1) is enough on
 * its own to name the intent; a weak one (0.5) is a hint that lowers the confidence when it is
 * all there is. Patterns run on normalized text (lower case, straight quotes), so they are
 * written in lower case. Labels appear in `matched` and in the draft's flags, so keep them short.
 */

export type IntentPattern = {
  intent: Intent;
  label: string;
  re: RegExp;
  weight: 1 | 0.5;
  /** Match the text with its case kept (for names: "This isn't Marcus"). */
  cased?: boolean;
};

const STRONG = 1;
const WEAK = 0.5;

function p(intent: Intent, weight: 1 | 0.5, label: string, re: RegExp, cased = false): IntentPattern {
  return { intent, label, re, weight, cased };
}

const DAY =
  '(?:today|tonight|tomorrow|tmrw|tmr|monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun|next\\s+week|this\\s+week|the\\s+\\d{1,2}(?:st|nd|rd|th))';

export const INTENT_PATTERNS: readonly IntentPattern[] = [
  // Safety and legal: a person must read these.
  p(
    'abuse_or_threat',
    STRONG,
    'profanity',
    /\bf+u+c*k+|\bfck\b|\bfuk\b|\bf[*#@$!]{2,}|\bf\s?u\b|\bstfu\b|\bmotherf/,
  ),
  p(
    'abuse_or_threat',
    STRONG,
    'insult',
    /\b(?:bitch|asshole|bastard|cunt|scum|piece\s+of\s+(?:shit|sh\*t|garbage|trash)|go\s+to\s+hell|screw\s+you|shit(?:head)?)\b|\b(?:go\s+)?f\s+(?:off|your\s?self|urself)\b/,
  ),
  p(
    'abuse_or_threat',
    STRONG,
    'threat',
    /\b(?:kill|hurt|shoot|stab|beat|burn|smash|break|destroy)\s+(?:you|u|ya|your|ur|the\s+office|this\s+place|that\s+office)\b/,
  ),
  p(
    'abuse_or_threat',
    STRONG,
    'threat_veiled',
    /\b(?:see\s+what\s+happens|watch\s+(?:your\s?self|yourself|ur\s?self|your\s+back|out)|i\s+know\s+where\s+(?:you|u|your|ur)|you(?:'ll|\s+will)\s+(?:regret|be\s+sorry))\b/,
  ),
  p(
    'abuse_or_threat',
    WEAK,
    'threat_visit',
    /\b(?:come|coming)\s+down\s+(?:there|to\s+(?:your|ur)\s+office)\b/,
  ),
  p(
    'abuse_or_threat',
    STRONG,
    'self_harm',
    /\b(?:kill\s+my\s?self|end\s+(?:it\s+all|my\s+life)|suicid\w*|want\s+to\s+die|(?:don'?t|dont)\s+want\s+to\s+(?:live|be\s+here)|no\s+reason\s+to\s+live)\b/,
  ),

  p(
    'bankruptcy',
    STRONG,
    'bankruptcy',
    /\bbankrupt(?:cy|cies)?\b|\bautomatic\s+stay\b|\bchapter\s+(?:7|11|13|seven|eleven|thirteen)\b/,
  ),
  p('bankruptcy', WEAK, 'trustee', /\btrustee\b/),

  p(
    'legal',
    STRONG,
    'lawyer',
    /\b(?:lawyer|attorney|atty|abogado|legal\s+aid|legal\s+action|lawsuit|law\s+suit)s?\b/,
  ),
  p('legal', STRONG, 'court', /\b(?:sue|suing|sued|court|judge|small\s+claims)\b/),
  p(
    'legal',
    STRONG,
    'statute',
    /\b(?:fdcpa|fcra|tcpa|cfpb|attorney\s+general|tenants?\s+(?:union|rights)|my\s+rights)\b/,
  ),
  p('legal', STRONG, 'eviction', /\bevict(?:ion|ing|ed)?\b/),
  p('legal', WEAK, 'illegal', /\b(?:illegal|is\s+this\s+legal|unlawful)\b/),

  p('wrong_number', STRONG, 'wrong_number', /\bwrong\s+(?:number|#|person|phone|guy|girl|contact)\b/),
  p(
    'wrong_number',
    STRONG,
    'not_known',
    /\b(?:don'?t|do\s+not|dont)\s+know\s+(?:any(?:one|body)?|a|who|this|that|him|her)\b|\bno\s+(?:one|body)\s+(?:by|named|with)\s+that\s+name\b/,
  ),
  p(
    'wrong_number',
    STRONG,
    'not_here',
    /\b(?:doesn'?t|does\s+not|dont|don'?t)\s+live\s+here\b|\b(?:moved\s+out|moved\s+away|no\s+longer\s+lives?)\b|\b(?:he|she)(?:'s|\s+is)\s+not\s+(?:here|available|home)\b/,
  ),
  p(
    'wrong_number',
    STRONG,
    'third_party',
    /\b(?:this\s+is|i\s*'?\s*m|i\s+am)\s+(?:his|her|their)\s+(?:wife|husband|mom|mother|dad|father|son|daughter|sister|brother|girlfriend|boyfriend|roommate|friend|cousin|aunt|uncle)\b/,
  ),
  p(
    'wrong_number',
    STRONG,
    'not_this_person',
    /\b(?:[Tt]his|I)\s*(?:isn'?t|is\s+not|am\s+not|'m\s+not|m\s+not|ain'?t)\s+[A-Z][a-z]+\b(?!\s+(?:sure|going|able|happy|paying))/,
    true,
  ),
  p('wrong_number', WEAK, 'who_is_this', /\bwho\s*(?:is|'s|s)?\s+(?:this|dis)\b|\bwho\s+are\s+(?:you|u)\b/),
  p('wrong_number', WEAK, 'new_number', /\bnew\s+(?:phone|number)\b/),

  p(
    'opt_out',
    STRONG,
    'stop_keyword',
    /^\W*(?:stop|stopall|stop\s+all|unsubscribe|cancel|end|quit|revoke|optout|opt[\s-]?out)\W*$/,
  ),
  p(
    'opt_out',
    STRONG,
    'stop_contacting',
    /\bstop\s+(?:texting|txting|texing|messaging|contacting|sending|calling|bothering|harassing|hitting\s+me\s+up)\b/,
  ),
  p(
    'opt_out',
    STRONG,
    'do_not_contact',
    /\b(?:don'?t|do\s+not|dont|never)\s+(?:text|txt|message|contact|call)\s+(?:me|this\s+number)\b/,
  ),
  p(
    'opt_out',
    STRONG,
    'unsubscribe',
    /\bunsubscribe\b|\bopt(?:-|\s)?out\b|\bremove\s+(?:me|my\s+number|this\s+number)\b|\btake\s+me\s+off\b|\bno\s+more\s+(?:texts|messages|txts|msgs)\b|\bleave\s+me\s+alone\b|\blose\s+(?:this|my)\s+number\b/,
  ),

  p(
    'dispute',
    STRONG,
    'already_paid',
    /\b(?:already|allready|alredy)\s+paid\b|\bpaid\s+(?:it\s+|this\s+|that\s+)?already\b|(?<!\bif\s)\bi\s+(?:already\s+)?paid\s+(?:on|last|this|it|that|the|in\s+full|you|\$?\d)/,
  ),
  p(
    'dispute',
    STRONG,
    'not_owed',
    /\b(?:don'?t|do\s+not|dont)\s+owe\b|\b(?:not|isn'?t|isnt|aint)\s+(?:my\s+(?:balance|debt|bill)|right|correct|accurate)\b|\bbalance\s+is\s+wrong\b/,
  ),
  p('dispute', STRONG, 'dispute', /\bdisput\w*/),
  p(
    'dispute',
    STRONG,
    'charged_wrongly',
    /\bcharged\s+(?:me\s+)?twice\b|\bdouble\s+(?:charged|billed)\b|\b(?:why|how)\s+(?:am|was|are|is)\s+(?:i|we|there)\s+(?:being\s+)?charg\w*|\bpaid\s+on\s+time\b|\bnot\s+(?:late|behind)\b|\bcheck\s+(?:your|ur|the)\s+records\b/,
  ),
  p(
    'dispute',
    STRONG,
    'fee_objection',
    /\bfees?\b[^.?!]{0,30}\b(?:shouldn'?t|should\s+not|shouldnt|isn'?t\s+(?:fair|right))\b|\b(?:remove|waive|take\s+off)\s+(?:the|that|this)\s+(?:late\s+)?fee\b/,
  ),
  p(
    'dispute',
    STRONG,
    'not_notified',
    /\bnever\s+(?:told|notified|informed|got\s+(?:a|any)\s+(?:notice|bill|letter))\b/,
  ),
  p(
    'dispute',
    WEAK,
    'wrong_amount',
    /\b(?:wrong(?!\s+(?:number|#|person|phone|guy|girl|contact))|incorrect|inaccurate|mistake|error)\b/,
  ),
  p('dispute', WEAK, 'evidence', /\b(?:receipt|proof|confirmation\s+number|bank\s+statement)\b/),
  p(
    'dispute',
    WEAK,
    'assistance_covers',
    /\b(?:covers?|paying|pays)\s+(?:most|all|part|the\s+rest)\b|\b(?:section\s+8|housing\s+assistance|voucher|subsidy)\b/,
  ),

  p(
    'human_request',
    STRONG,
    'talk_to_person',
    /\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|the\s+|your\s+|ur\s+)?(?:real\s+|actual\s+|live\s+)?(?:person|human|someone|somebody|manager|supervisor|landlord|owner|property\s+manager|agent|rep|representative)\b/,
  ),
  p(
    'human_request',
    STRONG,
    'who_to_talk_to',
    /\bwho\s+(?:can|do|should|could)\s+i\s+(?:talk|speak)\s+(?:to|with)\b/,
  ),
  p('human_request', STRONG, 'real_person', /\b(?:real|actual|live)\s+(?:person|human)\b/),
  p('human_request', STRONG, 'call_me', /\b(?:call|phone|ring)\s+me\b|\bcall\s+me\s+back\b/),
  p(
    'human_request',
    STRONG,
    'is_bot',
    /\b(?:is\s+this|are\s+you|r\s+u|are\s+u|is\s+it)\s+(?:a\s+)?(?:bot|robot|machine|automated|computer|real)\b|\b(?:texting|talking\s+to|chatting\s+with|messaging)\s+(?:a\s+|an\s+)?(?:bot|robot|machine|computer|ai)\b/,
  ),
  p('human_request', WEAK, 'manager', /\b(?:supervisor|manager|human)\b/),

  p('complaint', STRONG, 'harassment', /\bharass\w*/),
  p(
    'complaint',
    STRONG,
    'complaint',
    /\bcomplain\w*|\bbetter\s+business\s+bureau\b|\bbbb\b|\breport\s+(?:you|this|u)\b/,
  ),
  p('complaint', STRONG, 'rude', /\b(?:rude|unprofessional|disrespect\w*)\b/),
  p(
    'complaint',
    STRONG,
    'not_fixed',
    /\b(?:hasn'?t|haven'?t|hasnt|havent|never|didn'?t|didnt|won'?t|until\s+(?:you|u|they))\s+(?:\w+\s+)?(?:fix|fixed|repair|repaired|come\s+out)\b|\b(?:nobody|no\s+one)\s+(?:responds|answers|calls\s+back|came|cares|showed\s+up)\b|\basked\s+(?:\w+\s+){0,3}(?:times|twice|again)\b|\b(?:to\s+be|get(?:ting)?)\s+(?:fixed|repaired)\b/,
  ),
  p(
    'complaint',
    STRONG,
    'why_texting',
    /\bwhy\s+(?:are|r|do|does)\s+(?:you|u|y'?all|this)\s+(?:keep\s+)?(?:texting|messaging|calling|bothering|text|message)\b|\btoo\s+many\s+(?:texts|messages|calls)\b/,
  ),
  p(
    'complaint',
    WEAK,
    'repairs',
    /\b(?:heat|water|power|electricity|ac|a\/c|hot\s+water)\s+(?:is|has\s+been|was|been)\s+(?:out|off|broken)\b|\b(?:mold|mould|leak|leaking|roach(?:es)?|mice|rats|bed\s?bugs|no\s+heat|no\s+hot\s+water|broken|maintenance)\b/,
  ),
  p(
    'complaint',
    WEAK,
    'odd_hours',
    /\bat\s+\d{1,2}\s?(?:am|pm)\b|\bmiddle\s+of\s+the\s+night\b|\bevery\s+(?:single\s+)?day\b|\bridiculous\b/,
  ),

  // Money: the conversation the product exists for.
  p(
    'payment_plan',
    STRONG,
    'payment_plan',
    /\bpayment\s+(?:plan|arrangement)s?\b|\b(?:set\s?up|make|work\s+out|do)\s+(?:a\s+)?(?:plan|arrangement)\b|\bplan\s+de\s+pagos?\b/,
  ),
  p(
    'payment_plan',
    STRONG,
    'installments',
    /\binstall?ments?\b|\bsmaller\s+payments\b|\b(?:split|break)\s+(?:it|up|the\s+(?:balance|amount|rent|payment))\b|\bhalf\s+now\b|\bpay\s+(?:it\s+)?(?:off\s+)?in\s+(?:parts|pieces|chunks)\b|\b(?:\d+|two|three|four)\s+payments\b/,
  ),
  p(
    'payment_plan',
    STRONG,
    'pay_over_time',
    /\bpay\b(?:[^.?!]|\.\d){0,30}\bover\s+(?:the\s+next\s+)?\S+\s+(?:weeks?|months?)\b/,
  ),
  p('payment_plan', WEAK, 'plan', /\bplan\b|\bpuedo\s+pagar\b/),

  p(
    'promise_to_pay',
    STRONG,
    'will_pay',
    /\b(?:i'?ll|ill|i\s+will|i'?m\s+gonna|im\s+gonna|gonna|going\s+to|i\s+shall)\b[^.?!]{0,40}?\b(?:pay|send|drop(?:\s+it)?\s+off|drop|bring|mail|have\s+(?:it|the\s+rent|the\s+money|rent|everything|the\s+rest))\b/,
  ),
  p(
    'promise_to_pay',
    STRONG,
    'payment_coming',
    /\bwill\s+(?:pay|be\s+paid|have\s+it|send)\b|\bpayment\s+(?:will\s+be|is\s+going\s+to\s+be|is)\s+(?:made|sent|coming|on\s+the\s+way)\b/,
  ),
  p(
    'promise_to_pay',
    STRONG,
    'sent',
    /\b(?:just\s+)?(?:sent|mailed|dropped\s+off)\s+(?:it|the\s+(?:payment|rent|money|check))\b|\bsending\s+(?:it|the|you|\$|\d)/,
  ),
  p(
    'promise_to_pay',
    STRONG,
    'paying_when',
    new RegExp(
      `\\bpaying\\s+(?:it\\s+|the\\s+(?:balance|rent|rest|full\\s+amount|whole\\s+thing)\\s+)?${DAY}\\b|\\bpaying\\s+the\\s+(?:balance|rent|rest)\\b`,
    ),
  ),
  p(
    'promise_to_pay',
    STRONG,
    'pay_all_on',
    /\b(?:can|could)\s+(?:i\s+)?pay\s+(?:it\s+)?(?:all|in\s+full|everything|the\s+(?:full|whole|rest))\s+(?:on|by|next|this|tomorrow|when|at)\b|\bi\s+can\s+pay\s+(?:it\s+)?(?:all|in\s+full|everything)\b/,
  ),
  p(
    'promise_to_pay',
    STRONG,
    'pay_on_day',
    new RegExp(
      `\\b(?:can|could)\\s+(?:i|we)\\s+pay\\s+(?:it\\s+|rent\\s+|the\\s+rent\\s+)?(?:on|by)\\s+${DAY}\\b`,
    ),
  ),
  p(
    'promise_to_pay',
    WEAK,
    'by_day',
    new RegExp(`\\bby\\s+(?:the\\s+)?(?:end\\s+of\\s+(?:the\\s+)?(?:week|month|day)|${DAY})\\b`),
  ),
  p('promise_to_pay', WEAK, 'promise', /\bi\s+promise\b|\bwhen\s+i\s+get\s+(?:paid|my\s+check)\b/),

  p(
    'hardship',
    STRONG,
    'job_loss',
    /\b(?:lost|lose|losing)\s+(?:my|his|her|our)\s+(?:job|work|income)\b|\blaid\s+off\b|\b(?:got|was|been)\s+fired\b|\bout\s+of\s+work\b|\b(?:not|no\s+longer|stopped)\s+working\b|\bhad\s+a\s+baby\b|\bmaternity\s+leave\b|\bperd[ií]\s+mi\s+trabajo\b/,
  ),
  p(
    'hardship',
    STRONG,
    'income_cut',
    /\b(?:hours|pay|shifts)\s+(?:got\s+|were\s+|was\s+)?(?:cut|reduced)\b|\bunemploy\w*|\bwaiting\s+on\s+(?:my\s+)?(?:unemployment|check|benefits|ssi|disability|tax\s+refund|stimulus)\b/,
  ),
  p(
    'hardship',
    STRONG,
    'cannot_pay',
    /\b(?:can'?t|cannot|can\s+not|cant|unable\s+to|not\s+able\s+to)\s+(?:afford|pay|make\s+(?:it|rent|the\s+payment))\b|\bno\s+puedo\s+pagar\b/,
  ),
  p(
    'hardship',
    STRONG,
    'struggling',
    /\bstruggl\w*|\b(?:money|things|finances|cash)\s+(?:is|are|has\s+been|have\s+been|'s)\s+(?:\w+\s+)?tight\b|\bhard\s+times?\b|\btough\s+(?:time|month|spot|year)\b|\bpassed\s+away\b|\bfuneral\b|\bshort\s+(?:this|on)\b|\bno\s+money\b|\bbroke\b/,
  ),
  p(
    'hardship',
    WEAK,
    'medical',
    /\b(?:hospital\w*|surgery|sick|illness|cancer|injur\w*|medical|doctor|disabilit\w*|pregnan\w*)\b/,
  ),
  p(
    'hardship',
    WEAK,
    'behind',
    /\bbehind\s+on\b|\bdoing\s+(?:my|the)\s+best\b|\bsingle\s+(?:mom|mother|dad|parent)\b/,
  ),

  p(
    'balance_question',
    STRONG,
    'how_much_owe',
    /\bhow\s+much\s+(?:do|does|did|will|would|should)?\s*(?:i|we)\s+(?:owe|need\s+to\s+pay|have\s+to\s+pay|gotta\s+pay|still\s+owe)\b|\bwhat\s+(?:do\s+)?(?:i|we)\s+(?:still\s+)?owe\b/,
  ),
  p(
    'balance_question',
    STRONG,
    'balance',
    /\bwhat(?:'s|\s+is|s)?\s+(?:my|the|our)\s+(?:current\s+|total\s+|remaining\s+|outstanding\s+)?(?:balance|total|amount\s+due|total\s+due|amount)\b|\b(?:tell|give|send)\s+me\s+(?:my|the)\s+(?:current\s+)?(?:balance|total)\b|\bhow\s+much\s+(?:is\s+)?(?:left|still\s+due|due)\b|\bbalance\s*\?/,
  ),
  p('balance_question', WEAK, 'my_balance', /\b(?:my|current)\s+balance\b|\bhow\s+much\b/),

  p(
    'payment_method_question',
    STRONG,
    'how_to_pay',
    /\bhow\s+(?:do|can|should|would)\s+(?:i|we)\s+(?:pay|make\s+(?:a\s+)?payment|send\s+(?:it|the|payment))\b|\bwhere\s+(?:do|can|should)\s+(?:i|we)\s+(?:send|mail|drop|pay|bring)\b|\baddress\s+(?:for|to)\s+(?:mail|send|pay|drop)\w*/,
  ),
  p(
    'payment_method_question',
    STRONG,
    'pay_by',
    /\bcan\s+(?:i|we)\s+pay\s+(?:online|by|with|through|via|in\s+cash|cash|in\s+person|at\s+the\s+(?:\w+\s+)?office)\b|\b(?:do|does|can)\s+(?:you|y'?all|u|you\s+guys|they)\s+(?:guys\s+)?(?:take|accept)\b|\b(?:is\s+there|do\s+you\s+have)\s+(?:a|an)\s+(?:portal|website|app|online)\b/,
  ),
  p(
    'payment_method_question',
    WEAK,
    'method',
    /\b(?:cash\s?app|zelle|venmo|paypal|apple\s+pay|money\s+order|credit\s+card|debit\s+card|portal|online|card)\b/,
  ),

  // Acknowledgements only win when nothing else matched (see intent.ts).
  p('acknowledgement', STRONG, 'thanks', /\b(?:thanks?|thank\s+(?:you|u)|thx|ty|tysm|gracias)\b/),
  p(
    'acknowledgement',
    STRONG,
    'ok',
    /^\W*(?:ok(?:ay)?|k|kk|got\s+it|sounds\s+good|will\s+do|noted|received|understood|cool|great|perfect|alright|yes|yep|yeah|sure|np|no\s+problem)\b/,
  ),
  p(
    'acknowledgement',
    STRONG,
    'thumbs',
    // The variation selector (U+FE0F) that follows ❤ is matched apart: it is not a character of its own.
    /^(?:[\s\u{1F44D}\u{1F44C}\u{1F64F}\u{2705}\u{1F642}\u{1F60A}\u{2764}\u{1F44F}\u{1FAE1}]|\u{FE0F})+$/u,
  ),
  p('acknowledgement', WEAK, 'ok_anywhere', /\b(?:ok(?:ay)?|got\s+it|sounds\s+good)\b/),
];

/** Words that try to steer a model; the rules engine is not steerable, but a person should look. */
export const INJECTION =
  /\b(?:ignore\s+(?:all\s+)?(?:previous|prior|above)\s+instructions|system\s*:|you\s+are\s+now|disregard\s+(?:the\s+)?(?:previous|above))/;
