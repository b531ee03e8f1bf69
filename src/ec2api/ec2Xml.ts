/**
 * EC2's XML: success documents in the API version's namespace and the error envelope.
 * Element names are the `locationName`s of the EC2 API model (botocore
 * `ec2/2016-11-15/service-2.json`); lists are `<xxxSet>` of `<item>` (reference §8).
 */

export const EC2_API_VERSION = '2016-11-15';
export const EC2_XML_NAMESPACE = `http://ec2.amazonaws.com/doc/${EC2_API_VERSION}/`;
export const EC2_XML_CONTENT_TYPE = 'text/xml;charset=UTF-8';

/** An element with text, with child elements, or empty. `undefined` children are left out. */
export interface XmlElement {
  name: string;
  text?: string;
  children?: XmlElement[];
}

type Child = XmlElement | undefined;

export function element(name: string, ...children: Child[]): XmlElement {
  return { name, children: children.filter((child): child is XmlElement => child !== undefined) };
}

/** `<name>value</name>`, or nothing when the value is undefined (EC2 omits absent members). */
export function leaf(
  name: string,
  value: string | number | boolean | undefined,
): XmlElement | undefined {
  return value === undefined ? undefined : { name, text: String(value) };
}

/** `<name><item>…</item>…</name>`, the shape of every EC2 list. */
export function itemSet<T>(
  name: string,
  items: readonly T[],
  render: (item: T) => Child[],
): XmlElement {
  return element(name, ...items.map((item) => element('item', ...render(item))));
}

/** `<ActionResponse xmlns="…"><requestId>…</requestId>…</ActionResponse>` */
export function renderSuccess(action: string, requestId: string, members: Child[]): string {
  const root = element(`${action}Response`, leaf('requestId', requestId), ...members);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${render(root, 0, ` xmlns="${EC2_XML_NAMESPACE}"`)}`;
}

/**
 * The EC2 error envelope. Note `RequestID` here against `requestId` in successes: EC2 spells
 * them differently and botocore's EC2 parser expects exactly that (reference §8, S15).
 */
export function renderError(code: string, message: string, requestId: string): string {
  const root = element(
    'Response',
    element('Errors', element('Error', leaf('Code', code), leaf('Message', message))),
    leaf('RequestID', requestId),
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n${render(root, 0, '')}`;
}

function render(node: XmlElement, depth: number, attributes: string): string {
  const indent = '    '.repeat(depth);
  const open = `${indent}<${node.name}${attributes}`;
  if (node.text !== undefined) return `${open}>${escapeText(node.text)}</${node.name}>\n`;

  const children = node.children ?? [];
  if (children.length === 0) return `${open}/>\n`;
  const inner = children.map((child) => render(child, depth + 1, '')).join('');
  return `${open}>\n${inner}${indent}</${node.name}>\n`;
}

/** Escapes markup; characters XML 1.0 cannot carry at all become U+FFFD. */
function escapeText(text: string): string {
  return text
    .replace(/[&<>"\r]/g, (character) => XML_ESCAPES[character] ?? character)
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD');
}

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\r': '&#13;',
};
