import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_PATH_LENGTH, parseMetadataPath } from './metadataPath.ts';

/**
 * Properties of the path normaliser over random request targets: it never throws, never
 * yields a segment that could walk the tree (`.`, `..`, empty, or holding a slash), never
 * decodes an escape, and keeps every plain path as written.
 */

const segment = fc
  .string({ minLength: 1, maxLength: 12 })
  .filter((text) => !text.includes('/') && !text.includes('?') && text !== '.' && text !== '..');
const anyTarget = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc
    .array(fc.constantFrom('/', '.', '..', '%2e', '%2f', '%00', '\0', '?', 'meta-data', 'latest'), {
      maxLength: 30,
    })
    .map((parts) => parts.join('')),
);

test('no target yields a segment that is empty, a dot segment or holds a slash; none throws', () => {
  fc.assert(
    fc.property(anyTarget, (target) => {
      const path = parseMetadataPath(target);
      if (path === undefined) return;
      for (const part of path.segments) {
        assert.ok(
          part !== '' && part !== '.' && part !== '..' && !part.includes('/'),
          JSON.stringify(part),
        );
      }
    }),
  );
});

test('escapes are never decoded: every segment is written as such in the target', () => {
  fc.assert(
    fc.property(anyTarget, (target) => {
      const path = parseMetadataPath(target);
      if (path === undefined) return;
      const written = target.split('?')[0]?.split('/') ?? [];
      for (const part of path.segments) assert.ok(written.includes(part));
    }),
  );
});

test('plain paths keep their segments, whatever the extra slashes and query', () => {
  fc.assert(
    fc.property(
      fc.array(segment, { maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 9, maxLength: 9 }),
      fc.boolean(),
      fc.string(),
      (parts, slashes, trailing, query) => {
        const target =
          parts.map((part, index) => '/'.repeat(slashes[index] as number) + part).join('') +
          (trailing ? '/' : '') +
          `?${query}`;
        fc.pre(target.indexOf('?') <= MAX_PATH_LENGTH);
        assert.deepEqual(
          parseMetadataPath(target.startsWith('/') ? target : `/${target}`)?.segments,
          parts,
        );
      },
    ),
  );
});

test('a target with a dot segment, without a leading slash, or too long is not a path', () => {
  fc.assert(
    fc.property(
      fc.array(segment, { maxLength: 5 }),
      fc.constantFrom('.', '..'),
      fc.nat(5),
      (parts, dots, at) => {
        const withDots = [...parts];
        withDots.splice(Math.min(at, parts.length), 0, dots);
        assert.equal(parseMetadataPath(`/${withDots.join('/')}`), undefined);
      },
    ),
  );
  fc.assert(
    fc.property(
      fc.string({ minLength: 1 }).filter((text) => !text.startsWith('/')),
      (target) => {
        assert.equal(parseMetadataPath(target), undefined);
      },
    ),
  );
  assert.equal(parseMetadataPath(`/${'a'.repeat(MAX_PATH_LENGTH)}`), undefined);
});
