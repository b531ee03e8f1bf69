import { ImdsdError } from '../errors.ts';

/**
 * The EC2 error codes the control API answers with, and the HTTP status of each. Codes and
 * meanings are EC2's own ("Error codes for the Amazon EC2 API", reference §8, S36). Statuses:
 * AuthFailure 401 as captured from EC2; DryRunOperation 412 as clients match it (I36);
 * UnauthorizedOperation 403 (reference: UNCONFIRMED; the status every EC2 capture of it shows);
 * MissingAuthenticationToken 403 per the common-errors page; every other client error 400.
 */
export const EC2_ERROR_STATUS = {
  AuthFailure: 401,
  MissingAuthenticationToken: 403,
  IncompleteSignature: 400,
  RequestExpired: 400,
  UnauthorizedOperation: 403,
  DryRunOperation: 412,
  MissingAction: 400,
  InvalidAction: 400,
  NoSuchVersion: 400,
  InvalidRequest: 400,
  MalformedQueryString: 400,
  MissingParameter: 400,
  UnknownParameter: 400,
  InvalidParameterValue: 400,
  InvalidParameterCombination: 400,
  InvalidPaginationToken: 400,
  'InvalidInstanceID.Malformed': 400,
  'InvalidInstanceID.NotFound': 400,
  RequestEntityTooLarge: 413,
  InternalError: 500,
} as const;

export type Ec2ErrorCode = keyof typeof EC2_ERROR_STATUS;

/**
 * A request the control API refuses. It belongs to imdsd's one error family (code
 * API_REQUEST_REFUSED); `ec2Code` is the code the caller sees in the EC2 error envelope.
 * The message is the envelope's `<Message>`: it names the parameter or header at fault and
 * never contains a secret key, a session token or a signature.
 */
export class Ec2ApiError extends ImdsdError {
  readonly ec2Code: Ec2ErrorCode;

  constructor(ec2Code: Ec2ErrorCode, message: string) {
    super('API_REQUEST_REFUSED', message, { upstreamCode: ec2Code });
    this.ec2Code = ec2Code;
  }

  get httpStatus(): number {
    return EC2_ERROR_STATUS[this.ec2Code];
  }
}
