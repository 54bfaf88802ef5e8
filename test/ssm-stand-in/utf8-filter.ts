// Test double of AWS Session Manager: the SSM agent's UTF-8 "rune" filter, which every shell-type
// output path of the real agent runs pty bytes through (agent/session/shell/shell.go,
// processStdoutData). It decodes rune by rune with Go's rules; whatever decodes to the error rune
// U+FFFD — an invalid byte, but also a genuine EF BF BD — is written as its first byte only; such a
// rune starting in the last 3 bytes of a read is held back for the next read, and held bytes are
// never flushed when the output ends. Reproduced so ORCA's client meets the same corruption.

const RUNE_ERROR = 0xfffd;
const UTF_MAX = 4;

interface Rune { readonly rune: number; readonly size: number }

const invalid: Rune = { rune: RUNE_ERROR, size: 1 };

/** The allowed range of the second byte after a lead byte (Go's utf8 accept ranges). */
function secondRange(lead: number): readonly [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}

function sizeOf(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** Go's utf8.DecodeRune at offset i: (RuneError, 1) for anything invalid or incomplete. */
export function decodeRune(b: Uint8Array, i: number): Rune {
  const lead = b[i] ?? 0;
  if (lead < 0x80) return { rune: lead, size: 1 };
  const size = sizeOf(lead);
  if (size === 0 || i + size > b.length) return invalid;
  const [lo, hi] = secondRange(lead);
  const second = b[i + 1] ?? 0;
  if (second < lo || second > hi) return invalid;
  let rune = (lead & (0xff >> (size + 1))) * 64 + (second & 0x3f);
  for (let k = 2; k < size; k++) {
    const c = b[i + k] ?? 0;
    if (c < 0x80 || c > 0xbf) return invalid;
    rune = rune * 64 + (c & 0x3f);
  }
  return { rune, size };
}

/** The filter of one output stream: feed it each read; what it returns is what the agent sends. */
export class Utf8Filter {
  #held: Buffer = Buffer.alloc(0);

  /** Bytes held back from earlier reads (lost if the output ends now). */
  get held(): Buffer {
    return this.#held;
  }

  /** Processes one read: returns the bytes to send, keeps a trailing possibly-incomplete rune. */
  push(read: Buffer): Buffer {
    const bytes = Buffer.concat([this.#held, read]);
    this.#held = Buffer.alloc(0);
    const out: Buffer[] = [];
    let i = 0;
    while (i < bytes.length) {
      const { rune, size } = decodeRune(bytes, i);
      if (rune !== RUNE_ERROR) {
        out.push(bytes.subarray(i, i + size));
      } else if (bytes.length - i < UTF_MAX) {
        this.#held = Buffer.from(bytes.subarray(i));
        break;
      } else {
        out.push(bytes.subarray(i, i + 1));
      }
      i += size;
    }
    return Buffer.concat(out);
  }
}
