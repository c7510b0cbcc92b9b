import { pino, type DestinationStream, type Logger } from 'pino';
import { currentCorrelationId } from '../core/runtime.js';
import { redactText, redactValue } from './redact.js';

export type { Logger };

/** JSON lines; every line carries the correlation id of the request or job it belongs to. */
export function createLogger(
  options: { level: string; service: string },
  destination?: DestinationStream,
): Logger {
  const logger = pino(
    {
      level: options.level,
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      mixin() {
        const correlationId = currentCorrelationId();
        return correlationId ? { correlation_id: correlationId } : {};
      },
      serializers: {
        // The final message however pino built it, including the error's own message that it
        // uses when a line has none (logger.error(err), logger.error({ err })).
        msg: (msg: unknown) => (typeof msg === 'string' ? redactText(msg) : msg),
        // formatters.log has already made errors a redacted { type, message }; pino's default
        // err serializer would then report every error's type as "Object".
        err: (err: unknown) => err,
      },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redactValue(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? redactText(a) : a));
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
  // Child bindings are serialized once, past formatters.log: redact them on the way in.
  // Children inherit this method, so grandchildren are covered too.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, redactValue(bindings) as typeof bindings, childOptions);
  } as typeof logger.child;
  return logger;
}
