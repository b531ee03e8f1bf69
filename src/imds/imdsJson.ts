/**
 * IMDS writes its JSON documents pretty-printed with two spaces and `" : "` between key and
 * value (reference §7.1, §7.4). Values here are flat: strings, numbers, null, string arrays.
 */
export type ImdsJsonValue = string | number | null | readonly string[];

export function renderImdsJson(document: Readonly<Record<string, ImdsJsonValue>>): string {
  const lines = Object.entries(document).map(
    ([key, value]) => `  ${JSON.stringify(key)} : ${JSON.stringify(value)}`,
  );
  return `{\n${lines.join(',\n')}\n}`;
}
