import type {
  EC2Client,
  InstanceMetadataOptionsResponse,
  ModifyInstanceMetadataOptionsCommandInput as ModifyInput,
} from '@aws-sdk/client-ec2';
import { ImdsdError } from '../../errors.ts';

/**
 * Reads and changes an instance's metadata options through a control API (imdsd's, or any
 * EC2 endpoint) with the AWS SDK's own EC2 client, so `imdsd options` is a real EC2 client
 * signing with SigV4. The SDK is loaded on first use: `imdsd serve` never pays for it.
 */
export interface ControlApiTarget {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface MetadataOptionsChangeRequest {
  httpTokens?: string;
  httpPutResponseHopLimit?: number;
  httpEndpoint?: string;
  httpProtocolIpv6?: string;
  instanceMetadataTags?: string;
  dryRun?: boolean;
}

export async function describeMetadataOptions(
  target: ControlApiTarget,
  instanceId: string,
): Promise<InstanceMetadataOptionsResponse> {
  const { DescribeInstancesCommand } = await import('@aws-sdk/client-ec2');
  const output = await call(target, (client) =>
    client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
  );

  const instance = output.Reservations?.flatMap((reservation) => reservation.Instances ?? []).find(
    (candidate) => candidate.InstanceId === instanceId,
  );
  if (instance?.MetadataOptions === undefined) {
    throw new ImdsdError(
      'API_REQUEST_REFUSED',
      `${target.endpoint} described no metadata options for ${instanceId}`,
    );
  }
  return instance.MetadataOptions;
}

export async function modifyMetadataOptions(
  target: ControlApiTarget,
  instanceId: string,
  change: MetadataOptionsChangeRequest,
): Promise<InstanceMetadataOptionsResponse> {
  const { ModifyInstanceMetadataOptionsCommand } = await import('@aws-sdk/client-ec2');
  const members = {
    InstanceId: instanceId,
    HttpTokens: change.httpTokens,
    HttpPutResponseHopLimit: change.httpPutResponseHopLimit,
    HttpEndpoint: change.httpEndpoint,
    HttpProtocolIpv6: change.httpProtocolIpv6,
    InstanceMetadataTags: change.instanceMetadataTags,
    DryRun: change.dryRun,
  };
  // Values go to the API as the user gave them: the API checks them and names a bad one.
  const input = Object.fromEntries(
    Object.entries(members).filter(([, value]) => value !== undefined),
  ) as unknown as ModifyInput;

  const output = await call(target, (client) =>
    client.send(new ModifyInstanceMetadataOptionsCommand(input)),
  );
  return output.InstanceMetadataOptions ?? {};
}

/** One SDK call, without retries, its failure turned into an ImdsdError naming EC2's code. */
async function call<T>(
  target: ControlApiTarget,
  action: (client: EC2Client) => Promise<T>,
): Promise<T> {
  const { EC2Client: Client, EC2ServiceException } = await import('@aws-sdk/client-ec2');
  const client = new Client({
    endpoint: target.endpoint,
    region: target.region,
    credentials: target.credentials,
    maxAttempts: 1,
  });
  try {
    return await action(client);
  } catch (error) {
    if (error instanceof EC2ServiceException) {
      throw new ImdsdError('API_REQUEST_REFUSED', `${error.name}: ${error.message}`, {
        upstreamCode: error.name,
      });
    }
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ImdsdError(
      'API_UNREACHABLE',
      `cannot reach the control API at ${target.endpoint} (${reason})`,
      { cause: error },
    );
  } finally {
    client.destroy();
  }
}
