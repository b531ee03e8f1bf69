/** Plain HTTP calls to an IMDS endpoint, as a curl script would make them. */

export async function imdsToken(endpoint: string): Promise<string> {
  const response = await fetch(`${endpoint}/latest/api/token`, {
    method: 'PUT',
    headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '21600' },
  });
  if (response.status !== 200) throw new Error(`token PUT answered ${response.status}`);
  return response.text();
}

export interface CredentialsDocument {
  status: number;
  body: Record<string, string>;
}

export async function imdsRoleCredentials(
  endpoint: string,
  roleName: string,
  token?: string,
): Promise<CredentialsDocument> {
  const response = await fetch(
    `${endpoint}/latest/meta-data/iam/security-credentials/${roleName}`,
    {
      headers: token === undefined ? {} : { 'X-aws-ec2-metadata-token': token },
    },
  );
  return {
    status: response.status,
    body: JSON.parse(await response.text()) as Record<string, string>,
  };
}

/** Polls `probe` on real time until it returns true; for outcomes of real network calls. */
export async function eventually(
  probe: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
