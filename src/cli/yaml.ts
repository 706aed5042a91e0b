/**
 * A small YAML emitter for plain data (objects, arrays, strings, numbers, booleans, null), enough for
 * `-O yaml`. Strings are quoted whenever a plain scalar could be read back as something else.
 */

const plainScalar = /^[A-Za-z_./][A-Za-z0-9_./ :@+-]*$/;
const ambiguous = /^(?:true|false|yes|no|on|off|null|~|y|n)$/i;

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number')
    return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
  if (typeof value === 'boolean') return String(value);
  const text = String(value);
  const safe = plainScalar.test(text) && !ambiguous.test(text) && !text.endsWith(':') && !text.includes(': ');
  return safe && text.trim() === text ? text : JSON.stringify(text);
}

function isNested(value: unknown): value is object {
  return (
    typeof value === 'object' &&
    value !== null &&
    (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0)
  );
}

function emptyCollection(value: unknown): string | undefined {
  if (Array.isArray(value) && value.length === 0) return '[]';
  if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 0
  ) {
    return '{}';
  }
  return undefined;
}

function lines(value: unknown, indent: string): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (!isNested(item)) return [`${indent}- ${emptyCollection(item) ?? scalar(item)}`];
      const [first = '', ...rest] = lines(item, `${indent}  `);
      return [`${indent}- ${first.trimStart()}`, ...rest];
    });
  }
  return Object.entries(value as Record<string, unknown>).flatMap(([key, item]) =>
    isNested(item)
      ? [`${indent}${scalar(key)}:`, ...lines(item, `${indent}  `)]
      : [`${indent}${scalar(key)}: ${emptyCollection(item) ?? scalar(item)}`],
  );
}

/** `data` as a YAML document (ending in a newline). */
export function toYaml(data: unknown): string {
  if (!isNested(data)) return `${emptyCollection(data) ?? scalar(data)}\n`;
  return `${lines(data, '').join('\n')}\n`;
}
