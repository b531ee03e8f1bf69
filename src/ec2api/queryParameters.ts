import { Ec2ApiError } from './ec2ApiError.ts';

/**
 * The parameters of one EC2 Query request (`Action=…&Version=…&InstanceId.1=…`), from the
 * query string and the form body together. EC2 flattens lists as `Name.N` and structures in
 * lists as `Name.N.Member`, numbered from 1 (botocore `EC2Serializer`, the ec2 protocol of
 * the API model, reference §8).
 */
export class QueryParameters {
  readonly #values: ReadonlyMap<string, string>;

  constructor(values: ReadonlyMap<string, string>) {
    this.#values = values;
  }

  get names(): string[] {
    return [...this.#values.keys()];
  }

  get(name: string): string | undefined {
    return this.#values.get(name);
  }

  /** `Prefix.1`, `Prefix.2`, … in index order (gaps allowed, as EC2 allows them). */
  list(prefix: string): string[] {
    return this.#indexed(prefix, (index) => this.#values.get(`${prefix}.${index}`));
  }

  /** `Filter.N.Name` with its `Filter.N.Value.M` values. */
  filters(): Array<{ name: string; values: string[] }> {
    return this.#indexed('Filter', (index) => {
      const name = this.#values.get(`Filter.${index}.Name`);
      if (name === undefined) {
        throw new Ec2ApiError('MissingParameter', `Filter.${index}.Name is required`);
      }
      return { name, values: this.list(`Filter.${index}.Value`) };
    });
  }

  #indexed<T>(prefix: string, read: (index: number) => T | undefined): T[] {
    const pattern = new RegExp(`^${prefix.replaceAll('.', '\\.')}\\.([1-9]\\d{0,3})(?:\\.|$)`);
    const indexes = new Set<number>();
    for (const name of this.#values.keys()) {
      const match = pattern.exec(name);
      if (match) indexes.add(Number(match[1]));
    }

    const items: T[] = [];
    for (const index of [...indexes].sort((a, b) => a - b)) {
      const item = read(index);
      if (item !== undefined) items.push(item);
    }
    return items;
  }
}

/**
 * Splits `a=1&b=2` the way HTML forms encode it (`+` is a space, `%XX` an octet of UTF-8).
 * A name given twice is refused: the request would mean two things.
 */
export function parseQueryString(
  text: string,
  into = new Map<string, string>(),
): Map<string, string> {
  for (const pair of text.split('&')) {
    if (pair === '') continue;

    const equals = pair.indexOf('=');
    const name = decodeComponent(equals === -1 ? pair : pair.slice(0, equals));
    const value = equals === -1 ? '' : decodeComponent(pair.slice(equals + 1));
    if (into.has(name)) {
      throw new Ec2ApiError(
        'InvalidParameterCombination',
        `The parameter ${name} is given more than once`,
      );
    }
    into.set(name, value);
  }
  return into;
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    throw new Ec2ApiError(
      'MalformedQueryString',
      `"${text.slice(0, 64)}" is not valid percent-encoded UTF-8`,
    );
  }
}
