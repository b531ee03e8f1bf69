/**
 * What the benchmark asks, scenario by scenario. Every scenario opens a new connection per
 * request: the real service closes the connection after each response, and so does imdsd
 * (it offers no keep-alive, for fidelity), so a kept connection is never an option.
 */

export const TOKEN_PATH = '/latest/api/token';
export const TOKEN_TTL_HEADER = 'X-aws-ec2-metadata-token-ttl-seconds';
export const TOKEN_HEADER = 'X-aws-ec2-metadata-token';
export const ROLE_LISTING_PATH = '/latest/meta-data/iam/security-credentials/';
export const INSTANCE_ID_PATH = '/latest/meta-data/instance-id';

export interface LoadRequest {
  method: 'GET' | 'PUT';
  path: string;
  headers: Readonly<Record<string, string>>;
}

/** What a scenario needs to know about the server it loads. */
export interface ScenarioContext {
  roleName: string;
  /** A valid session token from the server under load (moto accepts any). */
  token: string;
}

export interface Scenario {
  name: string;
  title: string;
  /** One request, or a cycle of requests sent in turn. */
  requests(context: ScenarioContext): LoadRequest[];
}

const tokenPut: LoadRequest = {
  method: 'PUT',
  path: TOKEN_PATH,
  headers: { [TOKEN_TTL_HEADER]: '21600' },
};

function credentialsGet(context: ScenarioContext): LoadRequest {
  return {
    method: 'GET',
    path: ROLE_LISTING_PATH + context.roleName,
    headers: { [TOKEN_HEADER]: context.token },
  };
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'token-put',
    title: 'IMDSv2 token PUT',
    requests: () => [tokenPut],
  },
  {
    name: 'credentials-v2',
    title: 'role credentials GET with a valid token',
    requests: (context) => [credentialsGet(context)],
  },
  {
    name: 'instance-id-v1',
    title: 'IMDSv1 GET of instance-id',
    requests: () => [{ method: 'GET', path: INSTANCE_ID_PATH, headers: {} }],
  },
  {
    // What an SDK's credential provider sends on each refresh (smithy-typescript
    // fromInstanceMetadata, botocore InstanceMetadataFetcher): a token, the role name, the keys.
    name: 'sdk-mix',
    title: 'SDK credential refresh: token PUT, role listing, credentials',
    requests: (context) => [
      tokenPut,
      { method: 'GET', path: ROLE_LISTING_PATH, headers: { [TOKEN_HEADER]: context.token } },
      credentialsGet(context),
    ],
  },
];

/** The scenarios `--scenario` names, all of them when it names none. */
export function scenariosNamed(names: readonly string[] | undefined): readonly Scenario[] {
  if (names === undefined) return SCENARIOS;
  const unknown = names.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
  if (unknown.length > 0)
    throw new Error(
      `unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
  return SCENARIOS.filter((scenario) => names.includes(scenario.name));
}
