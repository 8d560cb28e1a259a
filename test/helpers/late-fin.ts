/**
 * A scenario several tests replay: a connection closed from both sides whose server FIN is retransmitted after the
 * flow table has judged it (other traffic moves packet time past the linger and past 65,536 packets, so a sweep
 * runs), which reopens and re-judges it as a lost final ACK.
 */
import { Conversation } from './conversation.js';

/** The conversation (client 10.0.0.1:40000) after its late FIN and the client's ACK of it. */
export function lateFinReopen(): Conversation {
  const cv = new Conversation().handshake();
  cv.c('F.').s('.').s('F.', { dt: 0.1 });
  const finSeq = cv.server.nxt - 1;
  cv.c('.');
  const other = cv.sibling({ cport: 41000, t0: cv.t });
  other.handshake();
  for (let i = 0; i < 70_000; i++) other.c('P.', { len: 1, dt: 0.0001 });
  cv.s('F.', { seq: finSeq, at: other.t + 0.01 }).c('.');
  return cv;
}
