// What every kubelet API handler answers with: plain text as a kubelet writes it (kubectl shows the
// body as the error), and a signal that aborts when the client goes away, so no work outlives its request.
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A plain-text answer ending with the kubelet's newline. */
export function plainText(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').send(`${body}\n`);
}

/** A controller aborted when the client goes away (the handler may abort it itself too). */
export function abortedOnClose(req: FastifyRequest): AbortController {
  const stop = new AbortController();
  req.raw.once('close', () => { stop.abort(); });
  return stop;
}
