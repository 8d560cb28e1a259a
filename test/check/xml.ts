/**
 * A small, strict XML 1.0 reader for checking the JUnit output: well-formedness (one root, matched tags, quoted
 * attributes without duplicates, only the five predefined entities and character references, no characters XML
 * forbids) and the element tree. Enough for machine-written XML without DTDs, CDATA, comments or namespaces.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_][\w.-]*/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function parseXml(xml: string): XmlElement {
  if (FORBIDDEN.test(xml)) throw new Error(`character not allowed in XML at ${xml.search(FORBIDDEN)}`);
  let i = 0;
  const fail = (msg: string): never => { throw new Error(`${msg} at offset ${i}: ${JSON.stringify(xml.slice(i, i + 30))}`); };
  const decode = (s: string): string => s.replace(/&([^;]*);/g, (_, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    const v = ENTITIES[e];
    if (v === undefined) fail(`unknown entity &${e};`);
    return v!;
  });
  const checkAmp = (s: string): void => {
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(s)) fail('bare &');
  };
  const ws = (): void => { while (i < xml.length && /\s/.test(xml[i]!)) i++; };

  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) fail('unterminated declaration');
    i = end + 2;
  }
  ws();

  const element = (): XmlElement => {
    if (xml[i] !== '<') fail('expected <');
    i++;
    const m = NAME.exec(xml.slice(i));
    if (m === null) fail('expected a tag name');
    const name = m![0];
    i += name.length;
    const el: XmlElement = { name, attrs: {}, children: [], text: '' };
    for (;;) {
      const before = i;
      ws();
      if (xml.startsWith('/>', i)) { i += 2; return el; }
      if (xml[i] === '>') { i++; break; }
      if (i === before) fail('expected whitespace before an attribute');
      const a = NAME.exec(xml.slice(i));
      if (a === null) fail('expected an attribute name');
      i += a![0].length;
      if (xml[i] !== '=') fail('expected =');
      i++;
      const q = xml[i];
      if (q !== '"' && q !== "'") fail('attribute value not quoted');
      const end = xml.indexOf(q!, i + 1);
      if (end < 0) fail('unterminated attribute value');
      const raw = xml.slice(i + 1, end);
      if (raw.includes('<')) fail('< in an attribute value');
      checkAmp(raw);
      if (a![0] in el.attrs) fail(`duplicate attribute ${a![0]}`);
      el.attrs[a![0]] = decode(raw);
      i = end + 1;
    }
    for (;;) {
      const lt = xml.indexOf('<', i);
      if (lt < 0) fail(`unclosed <${name}>`);
      const text = xml.slice(i, lt);
      if (text.includes('>') && /\]\]>/.test(text)) fail(']]> in text');
      checkAmp(text);
      el.text += decode(text);
      i = lt;
      if (xml.startsWith('</', i)) {
        i += 2;
        if (!xml.startsWith(name, i)) fail(`expected </${name}>`);
        i += name.length;
        ws();
        if (xml[i] !== '>') fail('expected >');
        i++;
        return el;
      }
      if (xml.startsWith('<!', i) || xml.startsWith('<?', i)) fail('comments, CDATA and processing instructions are not expected here');
      el.children.push(element());
    }
  };

  const root = element();
  ws();
  if (i !== xml.length) fail('content after the root element');
  return root;
}
