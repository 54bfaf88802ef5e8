// SPDY/3 header blocks (kubelet-protocol.md §4.4): the name/value block format (pure) and its zlib
// compression with the SPDY/3 preset dictionary. Each connection has one deflate context for what it
// sends and one inflate context for what it receives; every block ends with a sync flush, so the
// contexts must see every block of their direction, in order.
import { constants as zlibConstants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { err, ok, type Result } from '../../domain/result.js';
import { SpdyProtocolError } from './frames.js';

/** Header names (lowercase) to their values, in arrival order. */
export type HeaderBlock = ReadonlyMap<string, readonly string[]>;
export type HeaderInput = HeaderBlock | Readonly<Record<string, string | readonly string[]>>;

const VALUE_SEPARATOR = '\0';
/** Go's spdystream limits (spdy/types.go): at most 1000 pairs, each name or value at most 1 MiB. */
const MAX_PAIRS = 1000;
const MAX_FIELD = 1 << 20;
/** The largest decompressed block accepted; far above any Kubernetes block (three short headers). */
export const MAX_HEADER_BLOCK = 2 * MAX_FIELD;

// The SPDY/3 preset dictionary (draft-mbelshe-httpbis-spdy-00 §2.6.10.1): 65 length-prefixed words
// followed by 574 bytes of raw text, 1423 bytes in all.
const DICTIONARY_WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding',
  'accept-language', 'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection',
  'content-base', 'content-encoding', 'content-language', 'content-length', 'content-location',
  'content-md5', 'content-range', 'content-type', 'date', 'etag', 'expect', 'expires', 'from', 'host',
  'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since', 'last-modified',
  'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via',
  'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url',
  'public', 'set-cookie', 'keep-alive', 'origin',
];
const DICTIONARY_TEXT = [
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505',
  '203 Non-Authoritative Information', '204 No Content', '301 Moved Permanently', '400 Bad Request',
  '401 Unauthorized', '403 Forbidden', '404 Not Found', '500 Internal Server Error', '501 Not Implemented',
  '503 Service Unavailable',
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT',
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,',
  'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.',
].join('');

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}

export const SPDY3_DICTIONARY: Buffer = Buffer.concat([
  ...DICTIONARY_WORDS.flatMap((w) => [u32(w.length), Buffer.from(w, 'latin1')]),
  Buffer.from(DICTIONARY_TEXT, 'latin1'),
]);

// ---- the name/value block -------------------------------------------------------------------

function entriesOf(h: HeaderInput): (readonly [string, readonly string[]])[] {
  const list = h instanceof Map ? [...(h as HeaderBlock).entries()] : Object.entries(h as Readonly<Record<string, string | readonly string[]>>);
  return list.map(([name, v]) => [name, typeof v === 'string' ? [v] : v] as const);
}

/** The uncompressed block; names are written lowercase, several values joined by NUL. */
export function encodeHeaderBlock(headers: HeaderInput): Buffer {
  const pairs = entriesOf(headers);
  const parts: Buffer[] = [u32(pairs.length)];
  for (const [name, values] of pairs) {
    if (name === '') throw new RangeError('SPDY header names must not be empty');
    if (values.some((v) => v.includes(VALUE_SEPARATOR))) throw new RangeError(`SPDY header "${name}" has a value containing NUL`);
    const n = Buffer.from(name.toLowerCase(), 'latin1');
    const v = Buffer.from(values.join(VALUE_SEPARATOR), 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

type BlockResult = Result<HeaderBlock, SpdyProtocolError>;
const bad = (message: string): BlockResult => err(new SpdyProtocolError('bad-header-block', message));

class BlockReader {
  private at = 0;
  constructor(private readonly b: Buffer) {}
  get done(): boolean {
    return this.at === this.b.length;
  }
  u32(): number | undefined {
    if (this.at + 4 > this.b.length) return undefined;
    const n = this.b.readUInt32BE(this.at);
    this.at += 4;
    return n;
  }
  field(): Buffer | undefined {
    const n = this.u32();
    if (n === undefined || n > MAX_FIELD || this.at + n > this.b.length) return undefined;
    const f = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return f;
  }
}

/** Reads a decompressed block; names are read case-insensitively (stored lowercase). */
export function decodeHeaderBlock(block: Buffer): BlockResult {
  const r = new BlockReader(block);
  const count = r.u32();
  if (count === undefined) return bad('header block shorter than its pair count');
  if (count > MAX_PAIRS) return bad(`header block with ${String(count)} pairs (at most ${String(MAX_PAIRS)})`);
  const headers = new Map<string, readonly string[]>();
  for (let i = 0; i < count; i++) {
    const name = r.field();
    const value = r.field();
    if (name === undefined || value === undefined) return bad(`header block truncated in pair ${String(i + 1)} of ${String(count)}`);
    if (name.length === 0) return bad('header block with an empty name');
    const key = name.toString('latin1').toLowerCase();
    if (headers.has(key)) return bad(`header block repeats the name "${key}"`);
    headers.set(key, value.toString('utf8').split(VALUE_SEPARATOR));
  }
  return r.done ? ok(headers) : bad('header block has bytes after its last pair');
}

/** The first value of a header, looked up case-insensitively. */
export function headerValue(headers: HeaderBlock, name: string): string | undefined {
  return headers.get(name.toLowerCase())?.[0];
}

// ---- compression contexts -------------------------------------------------------------------

/** Runs blocks through one zlib stream, one at a time, each ended by a sync flush. */
class FlushedBlocks {
  private out: Buffer[] = [];
  private outSize = 0;
  private failure: Error | undefined;
  private rejectCurrent: ((e: Error) => void) | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly z: Deflate | Inflate, private readonly maxOutput: number) {
    z.on('data', (c: Buffer) => {
      this.outSize += c.length;
      if (this.outSize <= maxOutput) this.out.push(c);
    });
    z.on('error', (e: Error) => {
      this.failure = e;
      this.rejectCurrent?.(e);
    });
  }

  run(input: Buffer): Promise<Buffer> {
    const p = this.tail.then(() => this.once(input));
    this.tail = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.z.close();
  }

  private once(input: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (this.failure !== undefined) {
        reject(this.failure);
        return;
      }
      this.rejectCurrent = reject;
      this.z.write(input);
      this.z.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        // Output still buffered inside the stream is emitted as 'data' by read() in flowing mode.
        while (this.z.readableLength > 0 && this.z.read() !== null);
        this.rejectCurrent = undefined;
        const size = this.outSize;
        const out = Buffer.concat(this.out);
        this.out = [];
        this.outSize = 0;
        if (this.failure !== undefined) reject(this.failure);
        else if (size > this.maxOutput) reject(new Error(`header block inflates to more than ${String(this.maxOutput)} bytes`));
        else resolve(out);
      });
    });
  }
}

/** The sending direction's context: compresses each block and sync-flushes it. */
export class HeaderCompressor {
  private readonly blocks = new FlushedBlocks(createDeflate({ dictionary: SPDY3_DICTIONARY }), Number.MAX_SAFE_INTEGER);

  compress(block: Buffer): Promise<Buffer> {
    return this.blocks.run(block);
  }

  close(): void {
    this.blocks.close();
  }
}

/** The receiving direction's context. Fails (a connection error) on corrupt or oversized input. */
export class HeaderDecompressor {
  private readonly blocks: FlushedBlocks;

  constructor(maxBlock = MAX_HEADER_BLOCK) {
    this.blocks = new FlushedBlocks(createInflate({ dictionary: SPDY3_DICTIONARY }), maxBlock);
  }

  async decompress(compressed: Buffer): Promise<Result<Buffer, SpdyProtocolError>> {
    try {
      return ok(await this.blocks.run(compressed));
    } catch (e) {
      return err(new SpdyProtocolError('compression', `header block does not decompress: ${e instanceof Error ? e.message : String(e)}`));
    }
  }

  close(): void {
    this.blocks.close();
  }
}
