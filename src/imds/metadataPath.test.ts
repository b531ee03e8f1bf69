import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PATH_LENGTH, parseMetadataPath } from './metadataPath.ts';

describe('metadata paths', () => {
  it('split into segments, ignoring the query, empty segments and a trailing slash', () => {
    assert.deepEqual(parseMetadataPath('/latest/meta-data/'), {
      segments: ['latest', 'meta-data'],
    });
    assert.deepEqual(parseMetadataPath('/latest//meta-data/ami-id?x=1'), {
      segments: ['latest', 'meta-data', 'ami-id'],
    });
    assert.deepEqual(parseMetadataPath('/'), { segments: [] });
  });

  it('keep percent-escapes as they are, so %2F is never a separator', () => {
    assert.deepEqual(parseMetadataPath('/latest/meta-data%2Fami-id'), {
      segments: ['latest', 'meta-data%2Fami-id'],
    });
  });

  it('refuse dot segments, relative targets and overlong paths', () => {
    assert.equal(parseMetadataPath('/latest/../latest/meta-data'), undefined);
    assert.equal(parseMetadataPath('/latest/./meta-data'), undefined);
    assert.equal(parseMetadataPath('latest/meta-data'), undefined);
    assert.equal(parseMetadataPath('http://169.254.169.254/latest/'), undefined);
    assert.equal(parseMetadataPath(`/${'a'.repeat(MAX_PATH_LENGTH)}`), undefined);
  });
});
