import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ec2ApiError } from './ec2ApiError.ts';
import { QueryParameters, parseQueryString } from './queryParameters.ts';

function ec2Code(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof Ec2ApiError);
    return error.ec2Code;
  }
  assert.fail('expected a refusal');
}

describe('EC2 Query parameters', () => {
  it('decode as an HTML form does: + is a space, %XX is UTF-8', () => {
    const values = parseQueryString(
      'Action=DescribeInstances&Filter.1.Value.1=a+b%20c&Filter.1.Value.2=%C3%A9&Empty=',
    );
    assert.equal(values.get('Filter.1.Value.1'), 'a b c');
    assert.equal(values.get('Filter.1.Value.2'), 'é');
    assert.equal(values.get('Empty'), '');
  });

  it('read lists in index order, gaps allowed, and filters with their values', () => {
    const params = new QueryParameters(
      parseQueryString(
        'InstanceId.10=c&InstanceId.2=b&InstanceId.1=a&Filter.2.Name=tag:Team&Filter.2.Value.1=x&Filter.1.Name=instance-id&Filter.1.Value.2=q&Filter.1.Value.1=p',
      ),
    );
    assert.deepEqual(params.list('InstanceId'), ['a', 'b', 'c']);
    assert.deepEqual(params.filters(), [
      { name: 'instance-id', values: ['p', 'q'] },
      { name: 'tag:Team', values: ['x'] },
    ]);
  });

  it('refuse a filter without a name, a name given twice and broken percent-encoding', () => {
    assert.equal(
      ec2Code(() => new QueryParameters(parseQueryString('Filter.1.Value.1=x')).filters()),
      'MissingParameter',
    );
    assert.equal(
      ec2Code(() => parseQueryString('InstanceId=a&InstanceId=b')),
      'InvalidParameterCombination',
    );
    assert.equal(
      ec2Code(() => parseQueryString('Action=%E0%A4%A')),
      'MalformedQueryString',
    );
  });
});
