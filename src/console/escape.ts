// virsh console's escape: Ctrl-] (0x1d) in what the user types ends the session; everything
// before it still goes to the guest, nothing after it does. Pure.

/** Ctrl-] , as virsh console and telnet use it. */
export const ESCAPE_BYTE = 0x1d;

export interface InputSplit {
  /** What goes to the guest. */
  forward: Buffer;
  /** The escape was typed: end the session after forwarding `forward`. */
  escaped: boolean;
}

export function splitAtEscape(chunk: Buffer): InputSplit {
  const at = chunk.indexOf(ESCAPE_BYTE);
  return at < 0 ? { forward: chunk, escaped: false } : { forward: chunk.subarray(0, at), escaped: true };
}
