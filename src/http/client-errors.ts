import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE } from './problem.js';

/**
 * Requests Node refuses before our app sees them (a malformed request line, headers over Node's
 * limit, an `Expect` it does not meet) get problem+json like every other refusal, instead of
 * Node's bare status line. Found by the fuzz test (docs/fuzz.md).
 */
export function answerClientErrorsAsProblems(server: Pick<Server, 'on'>): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A peer that hung up has nobody to answer.
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const title = tooLarge ? 'Request Header Fields Too Large' : 'Bad Request';
    const body = problemJson(
      status,
      title,
      tooLarge ? 'The request headers are larger than the server accepts.' : 'The HTTP request is malformed.',
    );
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    const body = problemJson(417, 'Expectation Failed', 'Only "Expect: 100-continue" is supported.');
    response.writeHead(417, { 'content-type': PROBLEM_CONTENT_TYPE, connection: 'close' }).end(body);
  });
}

function problemJson(status: number, title: string, detail: string): string {
  return JSON.stringify({ type: 'about:blank', title, status, detail });
}
