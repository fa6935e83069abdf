/**
 * A small streaming XML tokenizer for the parts of an xlsx file: machine-written XML with no DTD.
 * Text is fed in pieces as it is decompressed; each complete tag and run of text goes to the handler
 * at once, so a sheet of any length is read with memory for one piece.
 *
 * Element names reach the handler without their namespace prefix (`x:row` is `row`); attribute names
 * keep theirs (`r:id`). Text arrives raw, possibly split, for the handler to join and `decodeXml`.
 * Comments, processing instructions and a DOCTYPE are skipped; CDATA arrives as text.
 */

export type XmlAttributes = Readonly<Record<string, string>>;

export interface XmlHandler {
  open(name: string, attributes: XmlAttributes): void;
  /** Also called right after `open` for an empty-element tag (`<c r="A1"/>`). */
  close?(name: string): void;
  text?(raw: string): void;
}

const NO_ATTRIBUTES: XmlAttributes = Object.freeze({});
const ATTRIBUTE = /([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const REFERENCE = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(lt|gt|amp|quot|apos));/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export class XmlScanner {
  /** An incomplete tag carried over to the next piece. */
  #rest = '';

  constructor(private readonly handler: XmlHandler) {}

  write(piece: string): void {
    const s = this.#rest.length > 0 ? this.#rest + piece : piece;
    let at = 0;
    while (at < s.length) {
      const lt = s.indexOf('<', at);
      if (lt === -1) {
        this.handler.text?.(s.slice(at));
        at = s.length;
        break;
      }
      if (lt > at) this.handler.text?.(s.slice(at, lt));
      const end = this.#markup(s, lt);
      if (end === -1) break;
      at = end;
    }
    this.#rest = s.slice(at);
  }

  /** Call after the last piece: XML that stops inside a tag is incomplete. */
  end(): void {
    if (this.#rest.length > 0) throw new Error('the XML ends inside a tag');
  }

  /** Handles the markup at `lt`; returns where it ends, or -1 when the piece ends first. */
  #markup(s: string, lt: number): number {
    const next = s.charCodeAt(lt + 1);
    if (Number.isNaN(next)) return -1;
    if (next === 0x21 /* ! */) {
      if (s.startsWith('<!--', lt)) return after(s, '-->', lt + 4);
      if (s.startsWith('<![CDATA[', lt)) {
        const end = s.indexOf(']]>', lt + 9);
        if (end === -1) return -1;
        // Escaped, so that the handler's decoding gives back exactly the CDATA's characters.
        this.handler.text?.(s.slice(lt + 9, end).replaceAll('&', '&amp;').replaceAll('<', '&lt;'));
        return end + 3;
      }
      if (s.length - lt < 9) return -1; // could still become a comment or CDATA
      return after(s, '>', lt + 2); // <!DOCTYPE …>
    }
    if (next === 0x3f /* ? */) return after(s, '?>', lt + 2);
    // An element tag ends at the first '>' outside a quoted attribute value.
    let quote = 0;
    for (let i = lt + 1; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (quote !== 0) {
        if (c === quote) quote = 0;
      } else if (c === 0x22 || c === 0x27) {
        quote = c;
      } else if (c === 0x3e /* > */) {
        this.#tag(s, lt, i);
        return i + 1;
      }
    }
    return -1;
  }

  #tag(s: string, lt: number, gt: number): void {
    if (s.charCodeAt(lt + 1) === 0x2f /* / */) {
      this.handler.close?.(localName(s.slice(lt + 2, gt).trim()));
      return;
    }
    const empty = s.charCodeAt(gt - 1) === 0x2f;
    const body = s.slice(lt + 1, empty ? gt - 1 : gt);
    const space = body.search(/\s/);
    const name = localName(space === -1 ? body : body.slice(0, space));
    if (name === '') throw new Error('malformed tag');
    this.handler.open(name, space === -1 ? NO_ATTRIBUTES : attributes(body.slice(space)));
    if (empty) this.handler.close?.(name);
  }
}

/** Character and entity references resolved (`&amp;` → `&`, `&#x4E2D;` → `中`). */
export function decodeXml(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(REFERENCE, (reference, hex: string | undefined, decimal: string | undefined, named: string | undefined) => {
    if (named !== undefined) return NAMED[named] ?? reference;
    const code = hex !== undefined ? Number.parseInt(hex, 16) : Number(decimal);
    return code <= 0x10ffff ? String.fromCodePoint(code) : reference;
  });
}

function after(s: string, terminator: string, from: number): number {
  const end = s.indexOf(terminator, from);
  return end === -1 ? -1 : end + terminator.length;
}

function localName(qualified: string): string {
  return qualified.slice(qualified.indexOf(':') + 1);
}

function attributes(source: string): XmlAttributes {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const match of source.matchAll(ATTRIBUTE)) out[match[1]!] = decodeXml(match[2] ?? match[3] ?? '');
  return out;
}
