// Two ByteLinks joined back to back, delivering asynchronously (as a socket would), with a record
// of every chunk each side sent.
import type { ByteLink } from "../../src/coderd/transport/yamux.js";

export interface LinkEnd extends ByteLink {
  /** Every chunk this end sent, in order. */
  readonly sent: Buffer[];
  /** Where bytes for this end go (set by the test: a session's receive). */
  deliver: (bytes: Buffer) => void;
  /** Called when the other end closes. */
  onPeerClose: () => void;
  closed: boolean;
}

export function linkPair(): [LinkEnd, LinkEnd] {
  const make = (): LinkEnd => ({
    sent: [],
    deliver: () => undefined,
    onPeerClose: () => undefined,
    closed: false,
    send(bytes) {
      this.sent.push(Buffer.from(bytes));
      const copy = Buffer.from(bytes);
      setImmediate(() => {
        if (!peerOf(this).closed) peerOf(this).deliver(copy);
      });
    },
    close() {
      if (this.closed) return;
      this.closed = true;
      setImmediate(() => peerOf(this).onPeerClose());
    },
  });
  const a = make();
  const b = make();
  const peerOf = (end: LinkEnd) => (end === a ? b : a);
  return [a, b];
}
