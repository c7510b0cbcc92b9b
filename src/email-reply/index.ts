// The pure parts of the email auto-reply workflow, for the service and routes that wire them.
export * from './commands.js';
export * from './decide.js';
export * from './owner-sms.js';
export * from './presentation.js';
export * from './skip-rules.js';
export * from './workflow-state.js';
