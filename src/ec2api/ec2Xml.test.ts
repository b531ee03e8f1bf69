import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { element, itemSet, leaf, renderError, renderSuccess } from './ec2Xml.ts';

describe('EC2 XML', () => {
  it('renders a success document in the API namespace, requestId first, absent members left out', () => {
    const xml = renderSuccess('ModifyInstanceMetadataOptions', 'req-1', [
      leaf('instanceId', 'i-0123456789abcdef0'),
      leaf('nextToken', undefined),
      element(
        'instanceMetadataOptions',
        leaf('state', 'pending'),
        leaf('httpPutResponseHopLimit', 2),
      ),
    ]);
    assert.equal(
      xml,
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<ModifyInstanceMetadataOptionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">',
        '    <requestId>req-1</requestId>',
        '    <instanceId>i-0123456789abcdef0</instanceId>',
        '    <instanceMetadataOptions>',
        '        <state>pending</state>',
        '        <httpPutResponseHopLimit>2</httpPutResponseHopLimit>',
        '    </instanceMetadataOptions>',
        '</ModifyInstanceMetadataOptionsResponse>',
        '',
      ].join('\n'),
    );
  });

  it('renders lists as <item>s and an empty list as an empty element', () => {
    const xml = renderSuccess('DescribeInstances', 'r', [
      itemSet('tagSet', [['Name', 'web']], ([key, value]) => [
        leaf('key', key),
        leaf('value', value),
      ]),
      itemSet('groupSet', [], () => []),
    ]);
    assert.match(
      xml,
      /<tagSet>\n\s+<item>\n\s+<key>Name<\/key>\n\s+<value>web<\/value>\n\s+<\/item>\n\s+<\/tagSet>/,
    );
    assert.match(xml, /<groupSet\/>/);
  });

  it('escapes markup in text and replaces characters XML cannot carry', () => {
    const xml = renderSuccess('DescribeInstances', 'r', [leaf('value', 'a<b>&"c"\u0001\r')]);
    assert.match(xml, /<value>a&lt;b&gt;&amp;&quot;c&quot;\uFFFD&#13;<\/value>/);
  });

  it('renders the error envelope with RequestID spelled as EC2 spells it there', () => {
    assert.equal(
      renderError(
        'InvalidInstanceID.NotFound',
        "The instance ID 'i-1' does not exist & more",
        'req-2',
      ),
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<Response>',
        '    <Errors>',
        '        <Error>',
        '            <Code>InvalidInstanceID.NotFound</Code>',
        "            <Message>The instance ID 'i-1' does not exist &amp; more</Message>",
        '        </Error>',
        '    </Errors>',
        '    <RequestID>req-2</RequestID>',
        '</Response>',
        '',
      ].join('\n'),
    );
  });
});
